// MemoryBudget: relieves held records when sources starve, and wakes starved sources once half the budget
// is free again, so they read in large steps.
#include "agent/core/memory_budget.h"

#include <vector>

namespace ferry {
namespace {

// A callback may add or remove callbacks, so they are called through a snapshot of the ids.
void CallEach(const std::map<int, std::function<void()>>& callbacks) {
  std::vector<int> ids;
  ids.reserve(callbacks.size());
  for (const auto& [id, callback] : callbacks) ids.push_back(id);
  for (int id : ids) {
    auto it = callbacks.find(id);
    if (it != callbacks.end()) it->second();
  }
}

}  // namespace

void MemoryBudget::MarkStarved() {
  if (starved_) return;
  starved_ = true;
  CallEach(relievers_);
}

void MemoryBudget::Give(std::size_t n) {
  used_ -= n;
  if (parent_ != nullptr) parent_->Give(n);
  if (starved_ && used_ <= limit_ / 2) {
    starved_ = false;
    CallEach(waiters_);
  }
}

void MemoryBudget::SetLimit(std::size_t limit) {
  limit_ = limit;
  if (starved_ && used_ <= limit_ / 2) {
    starved_ = false;
    CallEach(waiters_);
  }
}

}  // namespace ferry
