// FileTailer's rotation by truncation: a file that shrinks starts again at 0, and the copy copytruncate made
// of it continues from where the original had been read, with its unfinished line.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/core/log_fields.h"
#include "agent/source/file_tailer.h"
#include "agent/source/start_position.h"
#include "agent/source/tailed_file.h"

namespace ferry {

void FileTailer::HandleTruncation(File& file, const std::string& what) {
  log_.warn("flow {}: {} {}; reading it again from 0", options_.flow, LogFile{file.path}, what);
  ++counters_.truncations;
  CountRotation(file);
  file.skip_hole = true;
  Truncation t{file.key, std::move(file.prefix), file.offset, std::move(file.carry), file.framer, file.source,
               Now()};
  file.prefix.clear();
  file.carry.clear();
  file.offset = 0;
  file.fingerprint = {};
  file.framer = framer_.NewFileState(true);
  file.source = OpenSource(0);
  Changed();
  for (auto& [key, other] : files_) {
    if (!other->held || other->copy_of != file.key) continue;
    // Check again now that the copy is complete: it must start with what the original started with.
    other->prefix = ReadPrefix(other->fd, kFingerprintBytes);
    if (PrefixAgrees(other->prefix, t.prefix)) {
      Continue(*other, std::move(t));
      return;
    }
  }
  truncations_.push_back(std::move(t));
}

void FileTailer::Continue(File& copy, Truncation&& from) {
  // The copy holds the original's bytes up to the truncation: it takes over the original's read offset,
  // unfinished record and acknowledgement source, so the watermark and its checkpoint carry on in it. A
  // copy still being written fills up to that offset first.
  log_.info("flow {}: continuing in {} (the copy) from offset {}", options_.flow, copy.path, from.offset);
  ++counters_.copies_followed;
  CountRotation(copy);
  copy.held = false;
  copy.undecided = false;
  copy.changed_at = Now();
  copy.offset = from.offset;
  copy.filling = copy.size < from.offset;
  copy.carry = std::move(from.carry);
  copy.framer = from.framer;
  copy.source = from.source;
  Changed();
  SchedulePass();
}

bool PrefixUnchanged(int fd, std::string_view prefix) {
  char now[kFingerprintBytes];
  std::size_t n = std::min(prefix.size(), sizeof now);
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, now + got, n - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got == n && std::memcmp(now, prefix.data(), n) == 0;
}

void FileTailer::SkipHole(File& file) {
  // A writer that keeps its own offset (no O_APPEND) goes on writing where it was after a truncation, so
  // the file starts with a hole that reads as NUL bytes. They were never written: skip them up to the
  // first data (SEEK_DATA where the file system knows holes, else by reading).
  if (file.offset != 0 || file.size == 0) return;
  std::uint64_t at = 0;
  off_t data = ::lseek(file.fd, 0, SEEK_DATA);
  if (data > 0) at = std::min<std::uint64_t>(static_cast<std::uint64_t>(data), file.size);
  char buf[4096];
  while (at < file.size) {
    ssize_t n =
        ::pread(file.fd, buf, std::min<std::uint64_t>(sizeof buf, file.size - at), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    auto* end = buf + n;
    auto* first = std::find_if(buf, end, [](char c) { return c != '\0'; });
    at += static_cast<std::uint64_t>(first - buf);
    if (first != end) {
      file.skip_hole = false;
      break;
    }
  }
  if (at == 0) {
    file.skip_hole = false;  // it starts with data
    return;
  }
  log_.warn(
      "flow {}: {} starts with {} NUL bytes after its truncation (a writer without O_APPEND left a hole); "
      "skipping them",
      options_.flow, file.path, at);
  file.figures.hole_bytes_skipped += at;
  counters_.files.hole_bytes_skipped += at;
  // The skipped bytes are acknowledged at once: the watermark starts after them.
  acks_.Close(file.source);
  file.source = OpenSource(at);
  file.offset = at;
  Changed();
}

}  // namespace ferry
