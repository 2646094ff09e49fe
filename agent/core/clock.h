// Clock: wall-clock time for the few things that need it (request signing, timestamps). Durations and
// timers come from the libuv loop; wall time comes in through this interface so tests can set it.
#pragma once

#include <cstdint>
#include <ctime>

namespace ferry {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t UnixSeconds() const = 0;
  // For timestamps finer than a second (the read time plugins stamp on records).
  virtual std::int64_t UnixMilliseconds() const { return UnixSeconds() * 1000; }
};

class SystemClock : public Clock {
 public:
  std::int64_t UnixSeconds() const override { return static_cast<std::int64_t>(std::time(nullptr)); }
  std::int64_t UnixMilliseconds() const override {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
  }
};

}  // namespace ferry
