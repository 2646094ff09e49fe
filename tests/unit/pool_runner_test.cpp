// Tests of PoolRunner (agent/core/pool_runner.h): a job's Work runs off the loop thread, its completion on
// the loop, and the idle waiters run only once no job is under way.
#include "agent/core/pool_runner.h"

#include <uv.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace ferry {
namespace {

struct ThreadJob : PoolRunner::Job {
  std::thread::id worked_on;
  void Work() override { worked_on = std::this_thread::get_id(); }
};

TEST_CASE("PoolRunner runs Work on a pool thread and calls back on the loop; idle waiters wait for it",
          "[pool_runner]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    PoolRunner runner(&loop);
    std::vector<std::string> events;
    runner.WhenIdle([&] { events.push_back("idle at once"); });
    REQUIRE(events == std::vector<std::string>{"idle at once"});

    std::thread::id worked_on;
    runner.Run<ThreadJob>(std::make_unique<ThreadJob>(), [&](std::unique_ptr<ThreadJob> job) {
      CHECK_FALSE(runner.busy());
      worked_on = job->worked_on;
      events.push_back("done");
      runner.RunIdleWaiters();  // as an owner does last in its completion
    });
    CHECK(runner.busy());
    runner.WhenIdle([&] { events.push_back("idle after the job"); });
    runner.RunIdleWaiters();  // busy: nobody is called yet
    CHECK(events.size() == 1);
    REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(worked_on != std::thread::id{});
    CHECK(worked_on != std::this_thread::get_id());
    CHECK(events == std::vector<std::string>{"idle at once", "done", "idle after the job"});
  }
  REQUIRE(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace ferry
