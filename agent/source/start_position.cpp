// Start position: the three rules of the header, in order.
#include "agent/source/start_position.h"

namespace ferry {

std::string_view ToString(StartReason reason) {
  switch (reason) {
    case StartReason::kCheckpoint:
      return "checkpoint";
    case StartReason::kShrunkWhileAway:
      return "file is shorter than its checkpoint (truncated while ferry was stopped): reading from the "
             "start";
    case StartReason::kContentChanged:
      return "checkpoint's inode now holds other content (inode reused): reading from the start";
    case StartReason::kCheckpointByContent:
      return "checkpoint of a file with the same content under another inode (copy or move)";
    case StartReason::kStartAtEnd:
      return "first start, start_at: end";
    case StartReason::kNewFile:
      return "new file";
  }
  return "?";
}

StartDecision DecideStart(const FileFacts& file, std::span<const FileCheckpoint> checkpoints,
                          const std::vector<bool>& claimed, bool first_start, StartAt start_at) {
  for (std::size_t i = 0; i < checkpoints.size(); ++i) {
    const FileCheckpoint& cp = checkpoints[i];
    if (cp.dev != file.dev || cp.ino != file.ino) continue;
    auto index = static_cast<std::ptrdiff_t>(i);
    if (cp.fingerprint.length > 0 && !file.prefix_matches(cp.fingerprint)) {
      return {0, StartReason::kContentChanged, index};
    }
    if (file.size < cp.offset) return {0, StartReason::kShrunkWhileAway, index};
    return {cp.offset, StartReason::kCheckpoint, index};
  }
  for (std::size_t i = 0; i < checkpoints.size(); ++i) {
    const FileCheckpoint& cp = checkpoints[i];
    if ((i < claimed.size() && claimed[i]) || cp.fingerprint.length != kFingerprintBytes) continue;
    if (file.size >= cp.offset && file.prefix_matches(cp.fingerprint)) {
      return {cp.offset, StartReason::kCheckpointByContent, static_cast<std::ptrdiff_t>(i)};
    }
  }
  if (first_start && start_at == StartAt::kEnd) return {file.size, StartReason::kStartAtEnd, -1};
  return {0, StartReason::kNewFile, -1};
}

}  // namespace ferry
