// Tests of CloseHandle and CloseHandles (agent/core/uv_handle): the callback runs once the handle is
// closed, from the loop and not before; it may free the handle; a handle already closing is left to its own
// close; a set's callback runs once, after the last of them.
#include "agent/core/uv_handle.h"

#include <catch2/catch.hpp>

#include <memory>

#include "agent/core/event_loop.h"

namespace ferry {
namespace {

TEST_CASE("CloseHandle runs its callback from the loop once the handle is closed", "[loop]") {
  uv_loop_t loop{};
  REQUIRE(InitLoop(&loop).ok());
  uv_timer_t timer{};
  REQUIRE(uv_timer_init(&loop, &timer) == 0);
  int closed = 0;
  CHECK(CloseHandle(&timer, [&] {
    CHECK(uv_is_closing(AsHandle(&timer)) != 0);
    ++closed;
  }));
  CHECK(closed == 0);                                   // not before the loop's close phase
  CHECK_FALSE(CloseHandle(&timer, [&] { ++closed; }));  // closing already: dropped
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(closed == 1);
  CHECK(CloseLoop(&loop).empty());
}

TEST_CASE("CloseHandle without a callback, and a callback that frees the handle", "[loop]") {
  uv_loop_t loop{};
  REQUIRE(InitLoop(&loop).ok());
  uv_idle_t idle{};
  REQUIRE(uv_idle_init(&loop, &idle) == 0);
  CHECK(CloseHandle(&idle));
  auto* timer = new uv_timer_t{};
  REQUIRE(uv_timer_init(&loop, timer) == 0);
  bool freed = false;
  CloseHandle(timer, [timer, &freed] {
    delete timer;
    freed = true;
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(freed);
  CHECK(CloseLoop(&loop).empty());
}

TEST_CASE("CloseHandles calls back once, after the last handle is closed", "[loop]") {
  uv_loop_t loop{};
  REQUIRE(InitLoop(&loop).ok());
  uv_timer_t a{};
  uv_timer_t b{};
  uv_idle_t c{};
  REQUIRE(uv_timer_init(&loop, &a) == 0);
  REQUIRE(uv_timer_init(&loop, &b) == 0);
  REQUIRE(uv_idle_init(&loop, &c) == 0);
  int calls = 0;
  CloseHandles({AsHandle(&a), AsHandle(&b), AsHandle(&c)}, [&] {
    for (uv_handle_t* h : {AsHandle(&a), AsHandle(&b), AsHandle(&c)}) CHECK(uv_is_closing(h) != 0);
    ++calls;
  });
  CHECK(calls == 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(calls == 1);
  CHECK(CloseLoop(&loop).empty());
}

}  // namespace
}  // namespace ferry
