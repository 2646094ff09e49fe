// Tests of CheckpointWriter (agent/checkpoint/checkpoint_writer): writes run on libuv's thread pool, so the
// loop keeps running (timers fire on time) while a write blocks; the outcome comes back on the loop;
// durable writes go to the checkpoint file and recent ones to its .recent file; a writer destroyed with a
// write in flight lets it finish and drops its outcome.
#include "agent/checkpoint/checkpoint_writer.h"

#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/unit/file_text.h"
#include "tests/unit/scratch_dir.h"

namespace ferry {
namespace {

using testing::ReadAll;

namespace fs = std::filesystem;

struct Loop {
  Loop() { REQUIRE(uv_loop_init(&loop) == 0); }
  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  uv_loop_t loop{};
};

// A store that takes its time, like fsync on a slow SD card, and notes the thread it ran on.
struct SlowStore {
  std::chrono::milliseconds delay;
  std::shared_ptr<std::atomic<std::thread::id>> ran_on = std::make_shared<std::atomic<std::thread::id>>();
  CheckpointWriter::Store store() const {
    return [delay = delay, ran_on = ran_on](const std::string& file, std::string_view text, bool durable) {
      ran_on->store(std::this_thread::get_id());
      std::this_thread::sleep_for(delay);
      return WriteCheckpointFile(file, text, durable);
    };
  }
};

TEST_CASE("A slow checkpoint write runs on the pool while the loop keeps its timers", "[checkpoint_writer]") {
  testing::ScratchDir dir("ferry-writer");
  Loop l;
  const std::string path = dir / "checkpoints/web.json";
  SlowStore slow{std::chrono::milliseconds(300)};
  std::optional<CheckpointWriter::Outcome> outcome;
  std::thread::id done_on;
  CheckpointWriter writer(
      &l.loop, path,
      [&](const CheckpointWriter::Outcome& o) {
        outcome = o;
        done_on = std::this_thread::get_id();
      },
      slow.store());

  // A 10 ms timer measures how late the loop gets while the write blocks.
  struct Ticker {
    uv_timer_t timer{};
    std::uint64_t last = 0;
    std::uint64_t worst_gap = 0;
    int ticks = 0;
  } ticker;
  uv_timer_init(&l.loop, &ticker.timer);
  ticker.timer.data = &ticker;
  ticker.last = uv_hrtime();
  uv_timer_start(
      &ticker.timer,
      [](uv_timer_t* t) {
        auto* self = static_cast<Ticker*>(t->data);
        const std::uint64_t now = uv_hrtime();
        self->worst_gap = std::max(self->worst_gap, now - self->last);
        self->last = now;
        ++self->ticks;
      },
      10, 10);

  writer.Write("{\"durable\": true}\n", /*durable=*/true);
  CHECK(writer.busy());
  while (!outcome) uv_run(&l.loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&ticker.timer), nullptr);

  CHECK_FALSE(writer.busy());
  REQUIRE(outcome->status.ok());
  CHECK(outcome->durable);
  CHECK(ticker.ticks >= 15);  // the loop ran all along
  CHECK(ticker.worst_gap < 100'000'000);
  CHECK(slow.ran_on->load() != std::this_thread::get_id());
  CHECK(done_on == std::this_thread::get_id());
  CHECK(ReadAll(path) == "{\"durable\": true}\n");
  CHECK_FALSE(fs::exists(RecentCheckpointPath(path)));
}

TEST_CASE("A recent write goes to the .recent file, without touching the durable one",
          "[checkpoint_writer]") {
  testing::ScratchDir dir("ferry-writer");
  Loop l;
  const std::string path = dir / "web.json";
  int done = 0;
  CheckpointWriter writer(&l.loop, path, [&](const CheckpointWriter::Outcome& o) {
    CHECK(o.status.ok());
    ++done;
  });
  writer.Write("durable\n", true);
  while (done < 1) uv_run(&l.loop, UV_RUN_ONCE);
  writer.Write("recent\n", false);
  while (done < 2) uv_run(&l.loop, UV_RUN_ONCE);
  CHECK(ReadAll(path) == "durable\n");
  CHECK(ReadAll(RecentCheckpointPath(path)) == "recent\n");
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK_FALSE(fs::exists(RecentCheckpointPath(path) + ".tmp"));
}

TEST_CASE("A failed write comes back as an error naming the file", "[checkpoint_writer]") {
  testing::ScratchDir dir("ferry-writer");
  Loop l;
  { std::ofstream(dir / "file") << "not a folder"; }
  const std::string path = dir / "file/web.json";
  std::optional<CheckpointWriter::Outcome> outcome;
  CheckpointWriter writer(&l.loop, path, [&](const CheckpointWriter::Outcome& o) { outcome = o; });
  writer.Write("x\n", false);
  while (!outcome) uv_run(&l.loop, UV_RUN_ONCE);
  REQUIRE_FALSE(outcome->status.ok());
  CHECK_THAT(outcome->status.error().message(), Catch::Contains(RecentCheckpointPath(path)));
}

TEST_CASE("A writer destroyed with a write in flight lets it finish and drops its outcome",
          "[checkpoint_writer]") {
  testing::ScratchDir dir("ferry-writer");
  Loop l;
  const std::string path = dir / "web.json";
  SlowStore slow{std::chrono::milliseconds(100)};
  bool called = false;
  {
    CheckpointWriter writer(
        &l.loop, path, [&](const CheckpointWriter::Outcome&) { called = true; }, slow.store());
    writer.Write("last\n", true);
  }
  uv_run(&l.loop, UV_RUN_DEFAULT);  // returns once the write is done
  CHECK_FALSE(called);
  CHECK(ReadAll(path) == "last\n");
}

}  // namespace
}  // namespace ferry
