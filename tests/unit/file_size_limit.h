// FileSizeLimit: for one scope, ignores SIGXFSZ and lowers RLIMIT_FSIZE, so writes past `limit` fail with
// EFBIG: a write error any test can provoke without root.
#pragma once

#include <signal.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>

namespace ferry::testing {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t limit) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit lowered = saved_;
    lowered.rlim_cur = limit;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lowered) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  sighandler_t old_handler_ = nullptr;
};

}  // namespace ferry::testing
