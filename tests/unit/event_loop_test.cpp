// Tests of InitLoop and CloseLoop (agent/core/event_loop): a loop closes cleanly once its handles are
// closed, and one that cannot close says what is still open instead of failing silently.
#include "agent/core/event_loop.h"

#include <catch2/catch.hpp>

namespace ferry {
namespace {

TEST_CASE("CloseLoop names the handles still open, and closes once they are", "[loop]") {
  uv_loop_t loop{};
  REQUIRE(InitLoop(&loop).ok());
  uv_timer_t timer{};
  uv_idle_t idle{};
  REQUIRE(uv_timer_init(&loop, &timer) == 0);
  REQUIRE(uv_idle_init(&loop, &idle) == 0);
  REQUIRE(uv_timer_start(
              &timer, [](uv_timer_t*) {}, 60000, 0) == 0);

  const std::string open = CloseLoop(&loop);
  CHECK(open.starts_with("2 handles still open: "));
  CHECK(open.find("timer (active)") != std::string::npos);
  CHECK(open.find("idle") != std::string::npos);

  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr);
  CHECK(CloseLoop(&loop).starts_with("2 handles still open: "));  // closing is not closed yet
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(CloseLoop(&loop).empty());
}

}  // namespace
}  // namespace ferry
