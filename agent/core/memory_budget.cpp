// MemoryBudget: wakes starved sources once half the budget is free again, so they read in large steps.
#include "agent/core/memory_budget.h"

#include <vector>

namespace ferry {

void MemoryBudget::Give(std::size_t n) {
  used_ -= n;
  if (starved_ && used_ <= limit_ / 2) {
    starved_ = false;
    // A waiter may add or remove waiters, so call through a snapshot of the ids.
    std::vector<int> ids;
    for (const auto& [id, waiter] : waiters_) ids.push_back(id);
    for (int id : ids) {
      auto it = waiters_.find(id);
      if (it != waiters_.end()) it->second();
    }
  }
}

}  // namespace ferry
