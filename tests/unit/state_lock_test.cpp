// Tests of StateLock: one holder per state_dir, released when the holder goes.
#include "agent/ops/state_lock.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace ferry {
namespace {

TEST_CASE("StateLock: a second holder is refused with the first one's pid, then succeeds", "[state_lock]") {
  char tmpl[] = "/tmp/ferry-lock-test-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  {
    auto first = StateLock::Acquire(dir);
    REQUIRE(first.ok());
    auto second = StateLock::Acquire(dir);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message() ==
          fmt::format("another ferry (pid {}) is running with state_dir {}", ::getpid(), dir));
    StateLock moved = std::move(*first);  // a moved lock is still held
    CHECK_FALSE(StateLock::Acquire(dir).ok());
  }
  CHECK(StateLock::Acquire(dir).ok());
  auto missing = StateLock::Acquire(dir + "/no/such/dir");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("cannot open") != std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry
