// Watermark: keeps finished-but-not-contiguous ranges until the gap before them closes.
#include "agent/checkpoint/watermark.h"

namespace ferry {

void Watermark::Finish(std::uint64_t start, std::uint64_t end) {
  if (end <= committed_ || end <= start) return;  // nothing new; an empty range closes no gap
  if (start > committed_) {
    // Ranges of one source never overlap, but an empty one may share its start with the next: keep the
    // longest range per start.
    auto [it, fresh] = pending_.try_emplace(start, end);
    if (!fresh && it->second < end) it->second = end;
    return;
  }
  committed_ = end;
  for (auto it = pending_.begin(); it != pending_.end() && it->first <= committed_;) {
    if (it->second > committed_) committed_ = it->second;
    it = pending_.erase(it);
  }
}

}  // namespace ferry
