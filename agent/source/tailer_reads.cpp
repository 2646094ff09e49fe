// FileTailer's read passes: one chunk per open file per pass, framed into a batch for the next stage, and
// the quiet-time flush of an unfinished line.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/checkpoint/fingerprint.h"
#include "agent/core/errno_text.h"
#include "agent/core/log_fields.h"
#include "agent/source/file_identity.h"
#include "agent/source/file_tailer.h"

#include <algorithm>
#include "agent/source/tailed_file.h"

namespace ferry {

std::shared_ptr<const std::string> FileTailer::Origin(File& file) {
  // Shared by the file's batches until it is renamed.
  if (!file.origin || *file.origin != file.path) file.origin = std::make_shared<const std::string>(file.path);
  return file.origin;
}

void FileTailer::Label(File& file, Batch& batch) const {
  batch.set_origin(Origin(file));
  batch.set_read_time_ms(clock_.UnixMilliseconds());
  batch.set_file_id(FileIdentity(file.key.first, file.key.second, file.prefix));
}

void FileTailer::ReadPass() {
  bool more = false;
  std::vector<File*> open;
  for (auto& [key, file] : files_) {
    if (file->fd >= 0 && !file->held) open.push_back(file.get());
  }
  // The pass starts with the file the last one ran out of memory at: under a tight budget a busy file first
  // in line would otherwise take every pass, and the rest (a copytruncate copy waiting to be matched among
  // them) would not be read until it went quiet.
  auto first = std::find_if(open.begin(), open.end(), [this](const File* f) { return f->key == resume_at_; });
  if (first != open.end()) std::rotate(open.begin(), first, open.end());
  for (File* file : open) {
    if (!budget_.Fits(options_.read_chunk_bytes + file->carry.size())) {
      resume_at_ = file->key;
      budget_.MarkStarved();  // its waiter schedules the next pass
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
    WarnOnce(file.path, "cannot stat: " + ErrnoText(errno));
    return 0;
  }
  file.size = static_cast<std::uint64_t>(st.st_size);
  if (file.undecided) {
    if (file.size == 0) return 0;
    file.prefix = ReadPrefix(file.fd, std::min<std::uint64_t>(file.size, kFingerprintBytes));
    file.fingerprint = FingerprintOf(file.prefix);
    Decide(file, false);
    if (file.held) return 0;
  }
  if (file.filling) {
    // A copy that continues a truncated file fills up to the original's offset before it has anything new.
    if (file.size <= file.offset) return 0;
    file.filling = false;
  }
  if (file.size < file.offset) {
    HandleTruncation(
        file, fmt::format("shrank from {} to {} bytes (truncated, or copytruncate)", file.offset, file.size));
  } else if (file.offset > 0 && file.size > file.offset && !PrefixUnchanged(file.fd, file.prefix)) {
    // Truncated and written past the old offset before this look: only its first bytes tell.
    HandleTruncation(file,
                     "was truncated and has grown past the read offset since (its first bytes changed)");
  }
  if (file.skip_hole) SkipHole(file);
  if (file.size == file.offset) return 0;
  std::size_t want = std::min<std::uint64_t>(file.size - file.offset, options_.read_chunk_bytes);
  std::size_t carried = file.carry.size();
  BatchRef batch(new Batch(file.source, file.offset - carried, &acks_, kSmallBlockBytes, &budget_));
  Label(file, *batch);
  char* buf = batch->arena().Allocate(carried + want);
  std::memcpy(buf, file.carry.data(), carried);
  ssize_t n;
  do {
    n = ::pread(file.fd, buf + carried, want, static_cast<off_t>(file.offset));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n < 0) {
      ++counters_.read_errors;
      const std::string why = ErrnoText(errno);
      if (auto note = read_failures_.Admit(why, Now())) {
        log_.error("flow {}: {}: read failed at offset {}: {}{}", options_.flow, LogFile{file.path},
                   file.offset, why, *note);
      }
    }
    return 0;
  }
  file.offset += static_cast<std::uint64_t>(n);
  file.changed_at = Now();
  std::size_t total = carried + static_cast<std::size_t>(n);
  FramingCounters framing;
  std::size_t consumed =
      framer_.Frame({buf, total}, batch->start_offset(), file.framer, batch->records(), framing);
  Count(file, static_cast<std::uint64_t>(n), framing);
  CheckContent(file, batch->records(), {buf, consumed});
  file.carry.assign(buf + consumed, total - consumed);
  batch->set_end_offset(batch->start_offset() + consumed);
  // The prefix and fingerprint grow with a young file until they cover kFingerprintBytes.
  if (file.prefix.size() < kFingerprintBytes && file.offset > file.prefix.size()) {
    file.prefix = ReadPrefix(file.fd, std::min<std::uint64_t>(file.offset, kFingerprintBytes));
    file.fingerprint = FingerprintOf(file.prefix);
    Changed();
  }
  Emit(file, std::move(batch));
  return static_cast<std::size_t>(n);
}

void FileTailer::Emit(File& file, BatchRef batch) {
  (void)file;
  bool has_records = !batch->records().empty();
  batch->Seal();  // a batch of skipped bytes only (headers, empty lines) is finished here
  if (has_records) sink_.Accept(std::move(batch));
}

void FileTailer::Flush(File& file) {
  if (file.carry.empty() && !framer_.HasPendingRecord(file.framer)) return;
  ++counters_.partial_flushes;
  BatchRef batch(new Batch(file.source, file.offset - file.carry.size(), &acks_, kSmallBlockBytes, &budget_));
  Label(file, *batch);
  std::string_view data = batch->arena().Copy(file.carry);
  FramingCounters framing;
  framer_.Flush(data, batch->start_offset(), file.framer, batch->records(), framing);
  Count(file, 0, framing);
  CheckContent(file, batch->records(), data);
  file.carry.clear();
  batch->set_end_offset(file.offset);
  Emit(file, std::move(batch));
}

}  // namespace ferry
