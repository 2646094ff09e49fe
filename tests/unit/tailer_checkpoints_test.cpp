// Tests of the tailer's checkpoint writing (agent/source/tailer_checkpoints.cpp), on real files and a real
// libuv loop: acknowledged offsets are written as they move, so a crash re-reads about
// checkpoint_after_bytes and not everything since the last interval; nothing is written while nothing
// changes; at most one durable write per checkpoint_interval; recent writes are paced to a small share of
// a core; and a forgotten file together with a rename (changes that cancelled out in the old change key)
// still get written.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "agent/checkpoint/checkpoint_store.h"
#include "tests/unit/tailer_harness.h"

namespace ferry {
namespace {

using namespace ferry::testing;  // NOLINT(google-build-using-namespace)

constexpr std::size_t kLineBytes = 21;  // "line 00001 some text\n"

std::uint64_t Inode(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

TEST_CASE("After a crash only what was acknowledged since the last recent write is read again",
          "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 4000);  // 84,000 bytes
  constexpr std::uint64_t kAfter = 8 << 10;
  auto make = [&] {
    auto h = std::make_unique<Harness>(tmp.path, std::vector<std::string>{live.string()});
    h->options.read_chunk_bytes = 4096;
    h->options.checkpoint_interval = Duration(60000);  // no durable write in this test but the first one
    h->options.checkpoint_after_bytes = kAfter;
    return h;
  };
  {
    auto h = make();
    h->Start();
    REQUIRE(h->RunUntil([&] { return h->sink.records.size() == 4000; }));
    h->SettleCheckpoints();
    CHECK(h->tailer->counters().checkpoint_writes >= 2);
    h->Crash();
  }
  auto h = make();
  h->Start();
  h->RunFor(300);
  // Before: nothing was written until checkpoint_interval, and all 4,000 lines came again.
  INFO("read again: " << h->sink.records.size());
  CHECK(h->sink.records.size() <= kAfter / kLineBytes + 1);
  CHECK(h->sink.records == Lines(4001 - static_cast<int>(h->sink.records.size()), 4000));
}

TEST_CASE("A quarter of the memory budget is the default distance between recent writes",
          "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 4000);
  {
    Harness h(tmp.path, {live.string()}, /*checkpoints=*/true, /*memory_limit=*/32 << 10);
    h.options.read_chunk_bytes = 4096;
    h.options.checkpoint_interval = Duration(60000);
    h.Start();
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 4000; }));
    h.SettleCheckpoints();
    h.Crash();
  }
  Harness h(tmp.path, {live.string()});
  h.Start();
  h.RunFor(300);
  CHECK(h.sink.records.size() <= (8 << 10) / kLineBytes + 1);
}

TEST_CASE("Nothing is written while nothing changes", "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  Harness h(tmp.path, {live.string()});  // checkpoint_interval 50 ms
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  h.RunFor(200);
  const auto writes = h.tailer->counters().checkpoint_writes;
  CHECK(writes >= 1);
  h.RunFor(500);  // ten intervals
  CHECK(h.tailer->counters().checkpoint_writes == writes);
  Append(live, 101, 101);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 101; }));
  REQUIRE(h.RunUntil([&] { return h.tailer->counters().checkpoint_writes > writes; }));
}

TEST_CASE("At most one durable write per checkpoint_interval, however much is acknowledged",
          "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 10);
  Harness h(tmp.path, {live.string()});
  h.options.checkpoint_interval = Duration(200);
  h.options.checkpoint_after_bytes = 1024;
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 10; }));
  const auto start = std::chrono::steady_clock::now();
  const auto syncs_before = h.tailer->counters().checkpoint_syncs;
  int next = 11;
  int rounds = 0;
  // At least 40 rounds, however slow a loaded machine makes each: the last check counts them.
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000) || rounds < 40) {
    ++rounds;
    Append(live, next, next + 99);  // 2,100 bytes
    next += 100;
    h.RunFor(10);
  }
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  const auto& c = h.tailer->counters();
  INFO("writes " << c.checkpoint_writes << ", durable " << c.checkpoint_syncs << " in " << elapsed_ms
                 << " ms");
  CHECK(c.checkpoint_syncs - syncs_before <= static_cast<std::uint64_t>(elapsed_ms / 200 + 1));
  // The recent writes carried the rest. How many there are depends on the machine: they are paced to a
  // share of a core, so a loaded machine's slower writes are spaced further apart (8 were seen in a
  // second on a loaded CI machine, 40 on a quiet one).
  CHECK(c.checkpoint_writes - c.checkpoint_syncs >= 3);
}

TEST_CASE("Recent writes of a big set are paced to a small share of a core", "[tailer][checkpoint]") {
  TempDir tmp;
  constexpr int kFiles = 1000;
  for (int f = 0; f < kFiles; ++f) Append(tmp.path / fmt::format("f{:04d}.log", f), 1, 1);
  Harness h(tmp.path, {(tmp.path / "*.log").string()});
  h.options.checkpoint_interval = Duration(60000);
  h.options.checkpoint_after_bytes = 1;  // every acknowledgement asks for a write
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == kFiles; }, 20000));
  h.RunFor(100);
  const auto cpu_before = h.tailer->counters().checkpoint_cpu_ns;
  const auto writes_before = h.tailer->counters().checkpoint_writes;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::steady_clock::now() - start; };
  auto writes = [&] { return h.tailer->counters().checkpoint_writes - writes_before; };
  // Acknowledgements all along, for at least a second and until a few paced writes happened (slower
  // under the sanitizers, where each write costs more and so waits longer).
  for (int i = 0;
       (elapsed() < std::chrono::seconds(1) || writes() < 4) && elapsed() < std::chrono::seconds(8); ++i) {
    Append(tmp.path / fmt::format("f{:04d}.log", i % kFiles), 2 + i, 2 + i);
    h.RunFor(3);
  }
  const auto wall_ns =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed()).count());
  const auto cpu = h.tailer->counters().checkpoint_cpu_ns - cpu_before;
  INFO(writes() << " writes, " << cpu / 1000 << " us of CPU in " << wall_ns / 1000 << " us");
  REQUIRE(writes() >= 4);
  // Each write waits kCheckpointPaceFactor times its cost after it: all but the last one or two were paid
  // for within the window. The cost is partly wall time on the loop, which a busy machine stretches
  // between the write and its measure, so a quarter of slack; unpaced writes would take half a core.
  CHECK(cpu - 2 * cpu / writes() <= wall_ns / kCheckpointPaceFactor * 5 / 4);
}

TEST_CASE(
    "A file forgotten and another renamed in one interval are both written (the change key cannot cancel)",
    "[tailer][checkpoint]") {
  TempDir tmp;
  Append(tmp.path / "a.log", 1, 10);
  Append(tmp.path / "b.log", 11, 20);
  Harness h(tmp.path, {(tmp.path / "*.log").string()});
  h.options.close_inactive = Duration(100);
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 20; }));
  REQUIRE(h.RunUntil([&] { return h.tailer->open_files() == 0; }, 3000));
  h.RunFor(200);  // the checkpoint is up to date
  const std::uint64_t a = Inode(tmp.path / "a.log");
  const std::uint64_t b = Inode(tmp.path / "b.log");
  // One scan sees both: a.log is gone (one file fewer) and b.log renamed (one rename more).
  fs::remove(tmp.path / "a.log");
  fs::rename(tmp.path / "b.log", tmp.path / "c.log");
  REQUIRE(h.RunUntil([&] {
    auto files = h.tailer->Files();
    return files.size() == 1 && files[0].path == (tmp.path / "c.log").string();
  }));
  h.RunFor(300);
  auto loaded = LoadLatestCheckpoints(h.options.checkpoint_path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->set.has_value());
  const auto& files = loaded->set->files;
  REQUIRE(files.size() == 1);
  CHECK(files[0].ino == b);
  CHECK(files[0].ino != a);
  CHECK(files[0].path == (tmp.path / "c.log").string());
}

}  // namespace
}  // namespace ferry
