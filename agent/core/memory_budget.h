// MemoryBudget: the bound on bytes held by batches in flight and by request bodies being sent.
// Sources take from it before reading and the bytes come back when a batch is freed; when it is
// spent, sources stop reading (backpressure) until a waiter is told there is room again. Stages that hold
// records back for more to come (aggregates and requests filling up) are told to send them at once when
// a source finds the budget spent, since nothing more comes until memory is freed.
//
// Each flow has a budget of its own (its share of memory_limit), so a flow whose destination is slow stops
// only its own reading. A flow's budget may have a parent that only sums what every flow holds (the
// daemon's total, for memory figures and heap trimming); the parent's limit never stops a flow.
// Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>

namespace ferry {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t limit, MemoryBudget* parent = nullptr) : limit_(limit), parent_(parent) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // True when n more bytes fit. A lone oversize request fits an empty budget so a huge line cannot wedge us.
  bool Fits(std::size_t n) const { return used_ == 0 || used_ + n <= limit_; }
  void Take(std::size_t n) {
    used_ += n;
    taken_total_ += n;
    if (parent_ != nullptr) parent_->Take(n);
  }
  void Give(std::size_t n);

  // waiter is called (on the loop) each time bytes come back after the budget was found full, until
  // RemoveWaiter(id) with the id returned here.
  int AddWaiter(std::function<void()> waiter) {
    waiters_.emplace(next_id_, std::move(waiter));
    return next_id_++;
  }
  void RemoveWaiter(int id) { waiters_.erase(id); }
  // reliever is called each time a source finds the budget spent (MarkStarved after room came back),
  // until RemoveReliever(id) with the id returned here.
  int AddReliever(std::function<void()> reliever) {
    relievers_.emplace(next_id_, std::move(reliever));
    return next_id_++;
  }
  void RemoveReliever(int id) { relievers_.erase(id); }
  // A source could not read for want of room: its waiters are called once half the budget is free.
  void MarkStarved();

  std::size_t used() const { return used_; }
  // Every byte ever taken: tells whether the budget was used since an earlier look.
  std::uint64_t taken_total() const { return taken_total_; }
  std::size_t limit() const { return limit_; }
  // A reload re-shares memory_limit among the flows. A larger limit wakes starved sources as bytes coming
  // back do; a smaller one holds reading back until enough comes back (nothing held is given up).
  void SetLimit(std::size_t limit);

 private:
  std::size_t limit_;
  MemoryBudget* parent_;
  std::size_t used_ = 0;
  std::uint64_t taken_total_ = 0;
  bool starved_ = false;
  std::map<int, std::function<void()>> waiters_;
  std::map<int, std::function<void()>> relievers_;
  int next_id_ = 1;
};

}  // namespace ferry
