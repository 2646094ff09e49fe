// AckTracker: routes finished ranges to their source's watermark.
#include "agent/checkpoint/ack_tracker.h"

namespace ferry {

SourceId AckTracker::Open(std::uint64_t start_offset) {
  SourceId id = next_id_++;
  marks_.emplace(id, Watermark(start_offset));
  return id;
}

void AckTracker::OnBatchDone(SourceId source, std::uint64_t start_offset, std::uint64_t end_offset) {
  ++changes_;
  auto it = marks_.find(source);
  if (it != marks_.end()) it->second.Finish(start_offset, end_offset);
}

std::uint64_t AckTracker::committed(SourceId source) const {
  auto it = marks_.find(source);
  return it == marks_.end() ? 0 : it->second.committed();
}

}  // namespace ferry
