// DeadLetterWriter: rapidjson writes (and escapes) each line into one buffer, written with O_APPEND in one go
// and cut back off with ftruncate if the write or the sync fails, so a failed Write leaves no half line for
// the next one to glue onto. rapidjson's UTF-8 decoder decides whether data can be a JSON string.
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

}  // namespace

DeadLetterWriter::DeadLetterWriter(std::string folder, std::string file_stem,
                                   std::function<std::int64_t()> now_ms)
    : folder_(std::move(folder)), path_(folder_ + "/" + file_stem + ".jsonl"), now_ms_(std::move(now_ms)) {}

DeadLetterWriter::~DeadLetterWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status DeadLetterWriter::Open() {
  auto made = MakeFolders(folder_, 0750, "dead-letter file " + path_);
  if (!made.ok()) return made;
  // O_RDWR rather than O_WRONLY: reading the last byte tells whether the file ends inside a line.
  // O_NOFOLLOW: the state folder is ferry's own; a symlink there is not a place to write log data to.
  int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) return IoError(path_, "opening", errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError(path_, "fstat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError(path_, "opening", EINVAL);
  }
  if (st.st_size == 0) {
    // New, or empty anyway: syncing its folder once more costs little, missing it could lose the file.
    folder_sync_pending_ = true;
  } else {
    char last = '\n';
    ssize_t n = ::pread(fd, &last, 1, st.st_size - 1);
    if (n != 1) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      return IoError(path_, "reading its last byte", err);
    }
    // A line cut short by a crash: the next line starts on a line of its own, so only that one is bad.
    newline_pending_ = last != '\n';
  }
  fd_ = fd;
  return Status::Ok();
}

Status DeadLetterWriter::Write(std::span<const DeadLetter> letters) {
  if (letters.empty()) return Status::Ok();
  if (fd_ < 0) {
    auto opened = Open();
    if (!opened.ok()) return opened;
  }
  // Before any line is written, so that a failure here leaves nothing behind to be written twice.
  if (folder_sync_pending_) {
    auto synced = SyncFolder(folder_, "dead-letter file " + path_);
    if (!synced.ok()) return synced;
    folder_sync_pending_ = false;
  }
  struct stat st;
  if (::fstat(fd_, &st) != 0) return IoError(path_, "fstat", errno);
  const off_t before = st.st_size;

  scratch_.clear();
  if (newline_pending_) scratch_.push_back('\n');
  std::string time = Rfc3339(now_ms_());
  std::string buffer;
  for (const auto& letter : letters) AppendLine(letter, time, scratch_, &buffer);

  // Cuts the file back to `before`; if even that fails, the next Write starts a fresh line.
  auto undo = [&](Error error) {
    if (::ftruncate(fd_, before) != 0) newline_pending_ = true;
    return error;
  };
  std::string_view rest = scratch_;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // n == 0 cannot happen for a regular file with bytes to write; treat it like a full disk.
      int err = n < 0 ? errno : ENOSPC;
      return undo(IoError(
          path_, fmt::format("writing {} dead letters ({} bytes)", letters.size(), scratch_.size()), err));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fdatasync(fd_) != 0) return undo(IoError(path_, "fdatasync", errno));
  newline_pending_ = false;
  written_ += letters.size();
  return Status::Ok();
}

}  // namespace ferry
