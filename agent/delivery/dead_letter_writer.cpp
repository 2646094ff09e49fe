// DeadLetterWriter: rapidjson writes (and escapes) each line into one buffer on the loop; a job on libuv's
// thread pool writes the buffer with O_APPEND in one go and cuts it back off with ftruncate if the write or
// the sync fails, so a failed job leaves no half line for the next one to glue onto. rapidjson's UTF-8
// decoder decides whether data can be a JSON string.
#include "agent/delivery/dead_letter_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

#include <fmt/format.h>
#include <rapidjson/encodings.h>
#include <rapidjson/writer.h>

#include "agent/aws/json_body.h"
#include "agent/core/durable_folder.h"
#include "agent/core/errno_text.h"

namespace ferry {
namespace {

Error IoError(const std::string& path, std::string_view what, int err) {
  return Error(ErrorCode::kIo, fmt::format("dead-letter file {}: {}: {}", path, what, ErrnoText(err)));
}

// A rapidjson input stream over bytes that may hold NULs; past the end it reads NUL, which ends no
// multi-byte sequence, so a sequence cut off by the end fails to decode.
struct ByteStream {
  using Ch = char;
  const char* at;
  const char* end;
  Ch Peek() const { return at != end ? *at : '\0'; }
  Ch Take() { return at != end ? *at++ : '\0'; }
};

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsUtf8(std::string_view s, bool allow_nul) {
  ByteStream in{s.data(), s.data() + s.size()};
  while (in.at != in.end) {
    unsigned code_point = 0;
    if (!rapidjson::UTF8<>::Decode(in, &code_point)) return false;
    if (code_point == 0 && !allow_nul) return false;
  }
  return true;
}

// s itself when it is UTF-8; else a copy in *buffer with U+FFFD for each byte that starts no valid sequence.
std::string_view AsUtf8(std::string_view s, std::string* buffer) {
  if (IsUtf8(s, true)) return s;
  buffer->clear();
  ByteStream in{s.data(), s.data() + s.size()};
  while (in.at != in.end) {
    const char* start = in.at;
    unsigned code_point = 0;
    if (rapidjson::UTF8<>::Decode(in, &code_point)) {
      buffer->append(start, in.at);
    } else {
      buffer->append("\xEF\xBF\xBD");
      in.at = start + 1;
    }
  }
  return *buffer;
}

// RFC 3339 in UTC with milliseconds: "2026-11-26T15:04:05.123Z".
std::string Rfc3339(std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t millis = unix_ms % 1000;
  if (millis < 0) {  // before 1970: round the seconds down, keep the milliseconds positive
    millis += 1000;
    seconds -= 1;
  }
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

using JsonWriter = rapidjson::Writer<aws::StringOut>;

void WriteText(JsonWriter& w, std::string_view text, std::string* buffer) {
  text = AsUtf8(text, buffer);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void AppendLine(const DeadLetter& letter, std::string_view time, std::string& out, std::string* buffer) {
  aws::StringOut stream(out);
  JsonWriter w(stream);
  w.StartObject();
  w.Key("time");
  w.String(time.data(), static_cast<rapidjson::SizeType>(time.size()));
  w.Key("flow");
  WriteText(w, letter.flow, buffer);
  w.Key("destination");
  WriteText(w, letter.destination, buffer);
  w.Key("error_code");
  WriteText(w, letter.error_code, buffer);
  w.Key("error_message");
  WriteText(w, letter.error_message, buffer);
  w.Key("partition_key");
  WriteText(w, letter.partition_key, buffer);
  if (!letter.explicit_hash_key.empty()) {
    w.Key("explicit_hash_key");
    WriteText(w, letter.explicit_hash_key, buffer);
  }
  w.Key("user_records");
  w.Uint(letter.user_records);
  if (IsUtf8(letter.data, false)) {
    w.Key("data");
    w.String(letter.data.data(), static_cast<rapidjson::SizeType>(letter.data.size()));
  } else {
    w.Key("data_base64");
    // An empty raw value keeps the writer's comma bookkeeping right while the base64 goes straight into
    // the buffer between the quotes (base64 needs no escaping).
    w.RawValue("", 0, rapidjson::kStringType);
    out.push_back('"');
    aws::AppendBase64(out, letter.data);
    out.push_back('"');
  }
  w.EndObject();
  out.push_back('\n');
}

// Writes all of text to fd (a terminal or pipe: may block the loop briefly, as a log line does).
bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

// A write job: the lines and the open file are moved in on the loop, the outcome is read back there.
struct DeadLetterWriter::WriteJob : PoolRunner::Job {
  std::string folder;
  std::string path;
  SyncCall sync;
  File file;
  std::string text;
  std::size_t letters = 0;
  Status status;

  void Work() override {
    if (file.fd < 0) status = Open();
    if (status.ok()) status = Append();
  }

  Status Open() {
    auto made = MakeFolders(folder, 0750, "dead-letter file " + path);
    if (!made.ok()) return made;
    // O_RDWR rather than O_WRONLY: reading the last byte tells whether the file ends inside a line.
    // O_NOFOLLOW: the state folder is ferry's own; a symlink there is not a place to write log data to.
    int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) return IoError(path, "opening", errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return IoError(path, "fstat", err);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return IoError(path, "opening", EINVAL);
    }
    if (st.st_size == 0) {
      // New, or empty anyway: syncing its folder once more costs little, missing it could lose the file.
      file.folder_sync_pending = true;
    } else {
      char last = '\n';
      ssize_t n = ::pread(fd, &last, 1, st.st_size - 1);
      if (n != 1) {
        int err = n < 0 ? errno : EIO;
        ::close(fd);
        return IoError(path, "reading its last byte", err);
      }
      // A line cut short by a crash: the next line starts on a line of its own, so only that one is bad.
      file.newline_pending = last != '\n';
    }
    file.fd = fd;
    return Status::Ok();
  }

  Status Append() {
    // Before any line is written, so that a failure here leaves nothing behind to be written twice.
    if (file.folder_sync_pending) {
      auto synced = SyncFolder(folder, "dead-letter file " + path);
      if (!synced.ok()) return synced;
      file.folder_sync_pending = false;
    }
    struct stat st;
    if (::fstat(file.fd, &st) != 0) return IoError(path, "fstat", errno);
    const off_t before = st.st_size;
    if (file.newline_pending) text.insert(text.begin(), '\n');
    // Cuts the file back to `before`; if even that fails, the next job starts a fresh line.
    auto undo = [&](Error error) {
      if (::ftruncate(file.fd, before) != 0) file.newline_pending = true;
      return error;
    };
    std::string_view rest = text;
    while (!rest.empty()) {
      ssize_t n = ::write(file.fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // n == 0 cannot happen for a regular file with bytes to write; treat it like a full disk.
        int err = n < 0 ? errno : ENOSPC;
        return undo(
            IoError(path, fmt::format("writing {} dead letters ({} bytes)", letters, text.size()), err));
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if ((sync ? sync(file.fd) : ::fdatasync(file.fd)) != 0) return undo(IoError(path, "fdatasync", errno));
    file.newline_pending = false;
    return Status::Ok();
  }
};

DeadLetterWriter::File& DeadLetterWriter::File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd >= 0) ::close(fd);
    fd = std::exchange(other.fd, -1);
    folder_sync_pending = other.folder_sync_pending;
    newline_pending = other.newline_pending;
  }
  return *this;
}

DeadLetterWriter::File::~File() {
  if (fd >= 0) ::close(fd);
}

DeadLetterWriter::DeadLetterWriter(uv_loop_t* loop, std::string folder, std::string file_stem,
                                   std::function<std::int64_t()> now_ms, SyncCall sync)
    : runner_(loop),
      folder_(std::move(folder)),
      path_(folder_ + "/" + file_stem + ".jsonl"),
      now_ms_(std::move(now_ms)),
      sync_(std::move(sync)),
      file_(File()) {}

DeadLetterWriter::~DeadLetterWriter() = default;

void DeadLetterWriter::Write(std::span<const DeadLetter> letters, Done done) {
  if (letters.empty()) {
    if (done) done(Status::Ok());
    return;
  }
  std::string time = Rfc3339(now_ms_());
  std::string buffer;
  for (const auto& letter : letters) AppendLine(letter, time, queued_text_, &buffer);
  queued_.push_back(Queued{letters.size(), std::move(done)});
  Pump();
}

void DeadLetterWriter::Pump() {
  if (runner_.busy() || queued_.empty()) return;
  auto job = std::make_unique<WriteJob>();
  job->folder = folder_;
  job->path = path_;
  job->sync = sync_;
  job->file = std::move(*file_);
  file_.reset();
  job->text = std::move(queued_text_);
  queued_text_.clear();
  for (const auto& q : queued_) job->letters += q.letters;
  writing_ = std::move(queued_);
  queued_.clear();
  runner_.Run<WriteJob>(std::move(job),
                        [this](std::unique_ptr<WriteJob> done) { OnJobDone(std::move(done)); });
}

void DeadLetterWriter::OnJobDone(std::unique_ptr<WriteJob> job) {
  file_.emplace(std::move(job->file));
  if (!job->status.ok() && fallback_fd_ >= 0) {
    file_error_ = job->status.error().message();
    if (WriteAll(fallback_fd_, job->text)) {
      fallen_back_ += job->letters;
      job->status = Status::Ok();
    }
  }
  if (job->status.ok()) written_ += job->letters;
  std::vector<Queued> finished;
  finished.swap(writing_);
  Pump();  // what was queued meanwhile goes now, as one job
  for (auto& q : finished)
    if (q.done) q.done(job->status);
  runner_.RunIdleWaiters();
}

void DeadLetterWriter::WhenIdle(std::function<void()> idle_done) {
  runner_.WhenIdle(std::move(idle_done));
}

}  // namespace ferry
