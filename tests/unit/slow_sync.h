// SlowSync: the sync step handed to the spool's and the dead-letter file's writers in their tests, a slow
// SD card: it sleeps first, then fails the calls whose number (from 1) is in `failing` (or every call,
// with fail_all) with EIO, and fdatasyncs the others. Its counter is the only state the pool thread shares
// with the test: an atomic.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace ferry::testing {

struct SlowSync {
  explicit SlowSync(std::uint64_t sleep = 0, std::vector<int> fail = {})
      : sleep_ms(sleep), failing(std::move(fail)) {}
  static SlowSync AlwaysFailing(std::uint64_t sleep) {
    SlowSync sync(sleep);
    sync.fail_all = true;
    return sync;
  }

  std::uint64_t sleep_ms;
  std::vector<int> failing;
  bool fail_all = false;
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);

  std::function<int(int)> Hook() const {
    return [sleep_ms = sleep_ms, failing = failing, fail_all = fail_all, calls = calls](int fd) {
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
      const int call = ++*calls;
      if (fail_all || std::find(failing.begin(), failing.end(), call) != failing.end()) {
        errno = EIO;
        return -1;
      }
      return ::fdatasync(fd);
    };
  }
};

}  // namespace ferry::testing
