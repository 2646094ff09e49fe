// FileTailer's rotation by truncation: a file that shrinks starts again at 0, and the copy copytruncate made
// of it continues from where the original had been read, with its unfinished line.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/source/file_tailer.h"
#include "agent/source/start_position.h"
#include "agent/source/tailed_file.h"

namespace ferry {

void FileTailer::HandleTruncation(File& file, std::uint64_t size) {
  log_.warn("flow {}: {} shrank from {} to {} bytes (truncated or copytruncate); reading it again from 0",
            options_.flow, file.path, file.offset, size);
  ++counters_.truncations;
  Truncation t{file.key, std::move(file.prefix), file.offset, std::move(file.carry), file.framer, file.source,
               Now()};
  file.prefix.clear();
  file.carry.clear();
  file.offset = 0;
  file.fingerprint = {};
  file.framer = framer_.NewFileState(true);
  file.source = acks_.Open(0);
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
  copy.held = false;
  copy.undecided = false;
  copy.changed_at = Now();
  copy.offset = from.offset;
  copy.filling = copy.size < from.offset;
  copy.carry = std::move(from.carry);
  copy.framer = from.framer;
  copy.source = from.source;
  SchedulePass();
}

}  // namespace ferry
