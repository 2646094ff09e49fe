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
};

class SystemClock : public Clock {
 public:
  std::int64_t UnixSeconds() const override { return static_cast<std::int64_t>(std::time(nullptr)); }
};

}  // namespace ferry
