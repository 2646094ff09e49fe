// Watermark: keeps finished-but-not-contiguous ranges until the gap before them closes.
#include "agent/checkpoint/watermark.h"

namespace ferry {

void Watermark::Finish(std::uint64_t start, std::uint64_t end) {
  if (end <= committed_) return;
  if (start > committed_) {
    pending_.emplace(start, end);
    return;
  }
  committed_ = end;
  for (auto it = pending_.begin(); it != pending_.end() && it->first <= committed_;) {
    if (it->second > committed_) committed_ = it->second;
    it = pending_.erase(it);
  }
}

}  // namespace ferry
