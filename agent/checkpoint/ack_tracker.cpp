// AckTracker: routes finished ranges to their source's watermark and tells the source's group how far it
// moved.
#include "agent/checkpoint/ack_tracker.h"

namespace ferry {

AckGroup AckTracker::OpenGroup(std::function<void(std::uint64_t)> on_advance) {
  AckGroup id = next_group_++;
  groups_.emplace(id, std::move(on_advance));
  return id;
}

SourceId AckTracker::Open(std::uint64_t start_offset, AckGroup group) {
  SourceId id = next_id_++;
  marks_.emplace(id, Mark{Watermark(start_offset), group});
  return id;
}

void AckTracker::OnBatchDone(SourceId source, std::uint64_t start_offset, std::uint64_t end_offset) {
  auto it = marks_.find(source);
  if (it == marks_.end()) return;
  const std::uint64_t before = it->second.watermark.committed();
  it->second.watermark.Finish(start_offset, end_offset);
  const std::uint64_t advanced = it->second.watermark.committed() - before;
  if (advanced == 0 || it->second.group == 0) return;
  auto group = groups_.find(it->second.group);
  // `it` is not used past this point: the listener may close sources.
  if (group != groups_.end()) group->second(advanced);
}

std::uint64_t AckTracker::committed(SourceId source) const {
  auto it = marks_.find(source);
  return it == marks_.end() ? 0 : it->second.watermark.committed();
}

}  // namespace ferry
