// FileTailer: scan, open, read passes and the close path of every libuv handle it owns.
#include "agent/source/file_tailer.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ferry {
namespace {

// Arena block for what later stages add to a batch (partition keys); the read buffer gets its own block.
constexpr std::size_t kSmallBlockBytes = 4096;

}  // namespace

struct FileTailer::File {
  FileTailer* owner = nullptr;
  uv_fs_event_t watch{};
  bool watching = false;
  std::string path;
  int fd = -1;
  std::uint64_t offset = 0;  // next byte to read
  std::string carry;         // bytes of an unfinished line, read before offset
  SourceId source = 0;
  int scans_gone = 0;  // scans since the path stopped naming this file
};

FileTailer::FileTailer(uv_loop_t* loop, spdlog::logger& log, TailerOptions options, MemoryBudget& budget,
                       AckTracker& acks, BatchSink& sink)
    : loop_(loop),
      log_(log),
      options_(std::move(options)),
      budget_(budget),
      acks_(acks),
      sink_(sink),
      framer_(options_.max_record_bytes) {
  uv_timer_init(loop_, &scan_timer_);
  uv_timer_init(loop_, &pass_timer_);
  scan_timer_.data = this;
  pass_timer_.data = this;
  open_handles_ = 2;
}

FileTailer::~FileTailer() {
  if (budget_waiter_ != 0) budget_.RemoveWaiter(budget_waiter_);
  for (auto& [key, file] : files_) {
    if (file->fd >= 0) ::close(file->fd);
  }
}

void FileTailer::Start() {
  budget_waiter_ = budget_.AddWaiter([this] { SchedulePass(); });
  Scan();
  first_scan_ = false;
  uv_timer_start(
      &scan_timer_, [](uv_timer_t* t) { static_cast<FileTailer*>(t->data)->Scan(); },
      options_.scan_interval_ms, options_.scan_interval_ms);
}

void FileTailer::WarnOnce(const std::string& path, const std::string& message) {
  if (warned_.insert(path).second) log_.warn("flow {}: {}: {}", options_.flow, path, message);
}

void FileTailer::Scan() {
  if (stopping_) return;
  std::set<FileKey> seen;
  for (const auto& pattern : options_.globs) {
    glob_t matches{};
    int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches);
    if (rc != 0 && rc != GLOB_NOMATCH) WarnOnce(pattern, "cannot expand glob");
    for (std::size_t i = 0; rc == 0 && i < matches.gl_pathc; ++i) {
      std::string path = matches.gl_pathv[i];
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) continue;  // vanished since the glob: the next scan decides
      if (!S_ISREG(st.st_mode)) {
        if (!S_ISDIR(st.st_mode)) WarnOnce(path, "not a regular file; skipped");
        continue;
      }
      FileKey key{st.st_dev, st.st_ino};
      seen.insert(key);
      auto it = files_.find(key);
      if (it == files_.end()) {
        Open(path, st);
      } else if (it->second->path != path) {
        log_.info("flow {}: {} was renamed to {}; following it", options_.flow, it->second->path, path);
        it->second->path = path;
        ++counters_.renames;
      }
    }
    globfree(&matches);
  }
  // A file no glob names any more was rotated away or deleted: drain it from its descriptor, then close
  // it once it has stayed at its end for a whole scan interval (a writer may still finish a line).
  std::vector<FileKey> done;
  for (auto& [key, file] : files_) {
    if (seen.contains(key)) {
      file->scans_gone = 0;
      continue;
    }
    if (file->scans_gone++ == 0) {
      log_.info("flow {}: {} is gone or renamed away; draining it", options_.flow, file->path);
      continue;
    }
    struct stat st {};
    if (::fstat(file->fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > file->offset) continue;
    done.push_back(key);
  }
  for (const auto& key : done) Close(key);
  SchedulePass();
}

void FileTailer::Open(const std::string& path, const struct stat& st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    WarnOnce(path, std::string("cannot open: ") + std::strerror(errno));
    return;
  }
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || opened.st_ino != st.st_ino || opened.st_dev != st.st_dev) {
    ::close(fd);  // replaced between stat and open; the next scan sees the new file
    return;
  }
  warned_.erase(path);
  auto file = std::make_unique<File>();
  file->owner = this;
  file->path = path;
  file->fd = fd;
  bool from_end = first_scan_ && options_.start_at == config::StartAt::kEnd;
  file->offset = from_end ? static_cast<std::uint64_t>(opened.st_size) : 0;
  file->source = acks_.Open(file->offset);
  file->watch.data = file.get();
  if (uv_fs_event_init(loop_, &file->watch) == 0) {
    ++open_handles_;
    file->watching = true;
    int rc = uv_fs_event_start(
        &file->watch,
        [](uv_fs_event_t* h, const char*, int, int) { static_cast<File*>(h->data)->owner->SchedulePass(); },
        path.c_str(), 0);
    if (rc != 0)
      log_.debug("flow {}: {}: no change events ({}); polling", options_.flow, path, uv_strerror(rc));
  }
  log_.info("flow {}: reading {} from offset {}", options_.flow, path, file->offset);
  ++counters_.files_opened;
  files_.emplace(FileKey{opened.st_dev, opened.st_ino}, std::move(file));
}

void FileTailer::SchedulePass() {
  if (stopping_ || pass_scheduled_) return;
  pass_scheduled_ = true;
  uv_timer_start(
      &pass_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<FileTailer*>(t->data);
        self->pass_scheduled_ = false;
        self->ReadPass();
      },
      0, 0);
}

void FileTailer::ReadPass() {
  bool more = false;
  for (auto& [key, file] : files_) {
    if (!budget_.Fits(options_.read_chunk_bytes + file->carry.size())) {
      budget_.MarkStarved();  // OnRoom schedules the next pass
      return;
    }
    if (ReadChunk(*file) == options_.read_chunk_bytes) more = true;
  }
  // Yield to the loop between passes so sockets and timers are served while a backlog is read.
  if (more) SchedulePass();
}

std::size_t FileTailer::ReadChunk(File& file) {
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) {
    ++counters_.read_errors;
    WarnOnce(file.path, std::string("cannot stat: ") + std::strerror(errno));
    return 0;
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < file.offset) {
    // Truncated in place: restart at 0 as a new source, so acks of the old bytes cannot move the new
    // watermark.
    log_.warn("flow {}: {} was truncated from {} to {} bytes; reading it from the start", options_.flow,
              file.path, file.offset, size);
    ++counters_.truncations;
    acks_.Close(file.source);
    file.offset = 0;
    file.carry.clear();
    file.source = acks_.Open(0);
  }
  if (size == file.offset) return 0;
  std::size_t want = std::min<std::uint64_t>(size - file.offset, options_.read_chunk_bytes);
  std::size_t carried = file.carry.size();
  BatchRef batch(new Batch(file.source, file.offset - carried, &acks_, kSmallBlockBytes, &budget_));
  char* buf = batch->arena().Allocate(carried + want);
  std::memcpy(buf, file.carry.data(), carried);
  ssize_t n;
  do {
    n = ::pread(file.fd, buf + carried, want, static_cast<off_t>(file.offset));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n < 0) {
      ++counters_.read_errors;
      log_.error("flow {}: {}: read failed at offset {}: {}", options_.flow, file.path, file.offset,
                 std::strerror(errno));
    }
    return 0;
  }
  file.offset += static_cast<std::uint64_t>(n);
  counters_.bytes_read += static_cast<std::uint64_t>(n);
  std::size_t total = carried + static_cast<std::size_t>(n);
  std::size_t consumed =
      framer_.Frame({buf, total}, batch->start_offset(), batch->records(), counters_.framing);
  file.carry.assign(buf + consumed, total - consumed);
  batch->set_end_offset(batch->start_offset() + consumed);
  bool has_records = !batch->records().empty();
  batch->Seal();
  if (has_records) sink_.Accept(std::move(batch));
  return static_cast<std::size_t>(n);
}

void FileTailer::EmitCarry(File& file) {
  // The file is gone, so its unterminated last line will never be finished: ship it as it is.
  if (file.carry.empty()) return;
  BatchRef batch(new Batch(file.source, file.offset - file.carry.size(), &acks_, kSmallBlockBytes, &budget_));
  std::string_view data = batch->arena().Copy(file.carry);
  std::size_t consumed = framer_.Frame(data, batch->start_offset(), batch->records(), counters_.framing);
  if (consumed < data.size()) {
    batch->records().push_back(Record{data.substr(consumed), file.offset});
    ++counters_.framing.records;
  }
  file.carry.clear();
  batch->set_end_offset(file.offset);
  batch->Seal();
  sink_.Accept(std::move(batch));
}

void FileTailer::Close(FileKey key) {
  auto it = files_.find(key);
  if (it == files_.end()) return;
  std::unique_ptr<File> file = std::move(it->second);
  files_.erase(it);
  EmitCarry(*file);
  log_.info("flow {}: closing {} at offset {}", options_.flow, file->path, file->offset);
  ::close(file->fd);
  file->fd = -1;
  ++counters_.files_closed;
  if (!file->watching) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&file->watch), [](uv_handle_t* h) {
    std::unique_ptr<File> owned(static_cast<File*>(h->data));
    owned->owner->HandleClosed();
  });
  (void)file.release();  // freed by the close callback above
}

void FileTailer::HandleClosed() {
  if (--open_handles_ == 0 && on_closed_) {
    auto done = std::move(on_closed_);
    done();
  }
}

void FileTailer::Stop(std::function<void()> on_closed) {
  stopping_ = true;
  on_closed_ = std::move(on_closed);
  auto closed = [](uv_handle_t* h) { static_cast<FileTailer*>(h->data)->HandleClosed(); };
  uv_close(reinterpret_cast<uv_handle_t*>(&scan_timer_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&pass_timer_), closed);
  for (auto& [key, file] : files_) {
    ::close(file->fd);
    file->fd = -1;
    if (file->watching) {
      uv_close(reinterpret_cast<uv_handle_t*>(&file->watch),
               [](uv_handle_t* h) { static_cast<File*>(h->data)->owner->HandleClosed(); });
    }
  }
}

}  // namespace ferry
