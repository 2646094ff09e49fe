// LoopLateness: how late a loop runs a repeating timer, i.e. how long the loop thread was kept from its
// work, while something that must not block it (a disk write, which belongs on libuv's thread pool) is
// under way. The timer does not keep the loop alive; Stop() closes it. Loop thread only.
#pragma once

#include <uv.h>

#include <algorithm>
#include <cstdint>

namespace ferry::testing {

class LoopLateness {
 public:
  explicit LoopLateness(uv_loop_t* loop, std::uint64_t every_ms = 10) : probe_(new Probe) {
    probe_->every_ns = every_ms * 1'000'000;
    probe_->last_ns = uv_hrtime();  // the first tick is measured from here
    uv_timer_init(loop, &probe_->timer);
    probe_->timer.data = probe_;
    uv_timer_start(&probe_->timer, &Tick, every_ms, every_ms);
    uv_unref(reinterpret_cast<uv_handle_t*>(&probe_->timer));
  }
  LoopLateness(const LoopLateness&) = delete;
  LoopLateness& operator=(const LoopLateness&) = delete;
  ~LoopLateness() { Stop(); }

  // The most any tick came later than its period after the one before (or after the start).
  std::uint64_t max_late_ms() const { return probe_ != nullptr ? probe_->max_late_ns / 1'000'000 : late_ms_; }
  std::uint64_t ticks() const { return probe_ != nullptr ? probe_->ticks : ticks_; }

  // Closes the timer; the loop frees it when it next runs.
  void Stop() {
    if (probe_ == nullptr) return;
    late_ms_ = probe_->max_late_ns / 1'000'000;
    ticks_ = probe_->ticks;
    uv_close(reinterpret_cast<uv_handle_t*>(&probe_->timer),
             [](uv_handle_t* h) { delete static_cast<Probe*>(h->data); });
    probe_ = nullptr;
  }

 private:
  struct Probe {
    uv_timer_t timer{};
    std::uint64_t every_ns = 0;
    std::uint64_t last_ns = 0;
    std::uint64_t max_late_ns = 0;
    std::uint64_t ticks = 0;
  };
  static void Tick(uv_timer_t* timer) {
    auto* p = static_cast<Probe*>(timer->data);
    const std::uint64_t now = uv_hrtime();
    if (now - p->last_ns > p->every_ns)
      p->max_late_ns = std::max(p->max_late_ns, now - p->last_ns - p->every_ns);
    p->last_ns = now;
    ++p->ticks;
  }

  Probe* probe_;
  std::uint64_t late_ms_ = 0;
  std::uint64_t ticks_ = 0;
};

}  // namespace ferry::testing
