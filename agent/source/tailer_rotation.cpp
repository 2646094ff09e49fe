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
  Truncation t{file.key,    file.fingerprint, file.offset, std::move(file.carry),
               file.framer, file.source,      Now()};
  file.carry.clear();
  file.offset = 0;
  file.fingerprint = {};
  file.framer = framer_.NewFileState(true);
  file.source = acks_.Open(0);
  for (auto& [key, other] : files_) {
    if (other->held && other->copy_of == file.key) {
      Continue(*other, std::move(t));
      return;
    }
  }
  truncations_.push_back(std::move(t));
}

void FileTailer::Continue(File& copy, Truncation&& from) {
  ++counters_.copies_followed;
  copy.held = false;
  copy.changed_at = Now();
  if (copy.size < from.offset) {
    // The original was read past the point where it was copied: the copy holds nothing new. What was
    // carried came from the original and is sent as it is.
    log_.info("flow {}: {} is a copy of what was already read", options_.flow, copy.path);
    copy.offset = copy.size;
    copy.framer = from.framer;
    copy.source = from.source;
    copy.carry = std::move(from.carry);
    Flush(copy);
    acks_.Close(copy.source);
    copy.source = acks_.Open(copy.offset);
    return;
  }
  log_.info("flow {}: continuing in {} (the copy) from offset {}", options_.flow, copy.path, from.offset);
  copy.offset = from.offset;
  copy.carry = std::move(from.carry);
  copy.framer = from.framer;
  copy.source = from.source;  // the same bytes, so the same watermark
  SchedulePass();
}

}  // namespace ferry
