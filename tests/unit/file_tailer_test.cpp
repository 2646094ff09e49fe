// Tests of the file tailer on real files in a temporary folder, driven by a real libuv loop: rotation
// (rename+create, copytruncate, truncation, deletion), checkpoints across restarts, quiet-time flushes,
// the descriptor bound, and the start-position rules.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <catch2/catch.hpp>

#include <algorithm>

#include "agent/checkpoint/fingerprint.h"
#include "agent/source/file_tailer.h"
#include "agent/source/start_position.h"
#include "tests/unit/tailer_harness.h"

namespace ferry {
namespace {

using namespace ferry::testing;  // NOLINT(google-build-using-namespace)

TEST_CASE("Tailer reads a file from the beginning and follows appends", "[tailer]") {
  TempDir tmp;
  Append(tmp.path / "app.log", 1, 100);
  Harness h(tmp.path, {(tmp.path / "app.log").string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  Append(tmp.path / "app.log", 101, 150);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 150; }));
  CHECK(h.sink.records == Lines(1, 150));
}

TEST_CASE("rename+create: the renamed file is drained, the new one read from 0", "[tailer][rotation]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  fs::rename(live, tmp.path / "app.log.1");
  Append(tmp.path / "app.log.1", 101, 120);  // the writer still had the old file open
  Append(live, 121, 200);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 200; }));
  h.RunFor(200);
  auto counts = Counts(h.sink.records);
  CHECK(h.sink.records.size() == 200);
  for (const auto& line : Lines(1, 200)) CHECK(counts[line] == 1);
  CHECK(h.tailer->counters().files_opened == 2);
}

TEST_CASE("rename+create within the glob: the rotated file is not read again", "[tailer][rotation]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 50);
  Harness h(tmp.path, {(tmp.path / "app.log*").string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 50; }));
  for (int r = 0; r < 3; ++r) {
    if (fs::exists(tmp.path / "app.log.2")) fs::rename(tmp.path / "app.log.2", tmp.path / "app.log.3");
    if (fs::exists(tmp.path / "app.log.1")) fs::rename(tmp.path / "app.log.1", tmp.path / "app.log.2");
    fs::rename(live, tmp.path / "app.log.1");
    Append(live, 51 + 50 * r, 100 + 50 * r);
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= static_cast<std::size_t>(100 + 50 * r); }));
  }
  h.RunFor(200);
  CHECK(h.sink.records.size() == 200);
  auto counts = Counts(h.sink.records);
  for (const auto& line : Lines(1, 200)) CHECK(counts[line] == 1);
  CHECK(h.tailer->counters().renames >= 3);
}

TEST_CASE("copytruncate: the copy continues from the read offset, the original restarts at 0",
          "[tailer][rotation]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  Harness h(tmp.path, {(tmp.path / "app.log*").string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  SECTION("copy seen before the truncation") {
    Append(live, 101, 130);
    fs::copy_file(live, tmp.path / "app.log.1");
    h.RunFor(150);  // let the scan see the copy before the original shrinks
  }
  SECTION("truncation seen before the copy") {
    Append(live, 101, 130);
    std::string copy_tmp = (tmp.path / ".hidden-copy").string();
    fs::copy_file(live, copy_tmp);
    REQUIRE(::truncate(live.c_str(), 0) == 0);
    Append(live, 131, 150);
    REQUIRE(h.RunUntil([&] { return h.tailer->counters().truncations == 1; }));
    fs::rename(copy_tmp, tmp.path / "app.log.1");
  }
  if (h.tailer->counters().truncations == 0) {
    REQUIRE(::truncate(live.c_str(), 0) == 0);
    Append(live, 131, 150);
  }
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 150; }));
  h.RunFor(700);  // past copy_hold: nothing more may arrive
  auto counts = Counts(h.sink.records);
  for (const auto& line : Lines(1, 150)) CHECK(counts[line] == 1);
  CHECK(h.sink.records.size() == 150);
  CHECK(h.tailer->counters().copies_followed == 1);
}

TEST_CASE("copytruncate with every rotated name taken: the new copy is found at once, not at the next scan",
          "[tailer][rotation]") {
  // logrotate's new app.log.1 appears under a name the tailer knows (its file, open, is now app.log.2),
  // and so do the renames and deletes beside it: each must call for a scan, or the copy waits for the
  // periodic scan and what was in it after the last read of app.log is lost when logrotate deletes it.
  TempDir tmp;
  fs::path logs = tmp.path / "logs";  // apart from the state folder, whose events would call for a scan
  fs::create_directory(logs);
  fs::path live = logs / "app.log";
  std::ofstream(logs / "app.log.1") << "older 1\n";
  std::ofstream(logs / "app.log.2") << "oldest 2\n";
  Append(live, 1, 100);
  Harness h(tmp.path, {(logs / "app.log*").string()});
  h.options.scan_interval = Duration(30000);
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 102; }));
  Append(live, 101, 150);  // not read yet: only the copy will hold these
  fs::remove(logs / "app.log.2");
  fs::rename(logs / "app.log.1", logs / "app.log.2");
  fs::copy_file(live, logs / "app.log.1");
  REQUIRE(::truncate(live.c_str(), 0) == 0);
  Append(live, 151, 160);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 162; }, 3000));
  auto counts = Counts(h.sink.records);
  for (const auto& line : Lines(1, 160)) CHECK(counts[line] == 1);
  CHECK(h.tailer->counters().copies_followed == 1);
}

TEST_CASE("Under a tight memory budget every file takes its turn, not only the first in line",
          "[tailer][budget]") {
  TempDir tmp;
  Append(tmp.path / "a.log", 1, 400);  // about 8 KB each: many reads of 1,000 bytes
  Append(tmp.path / "b.log", 1001, 1400);
  // Room for one read of 1,000 bytes at a time: each pass reads one file, then finds the budget spent.
  Harness h(tmp.path, {(tmp.path / "*.log").string()}, /*checkpoints=*/false, /*memory_limit=*/1500);
  h.options.read_chunk_bytes = 1000;
  h.sink.ack = false;
  h.Start();
  auto from_b = [&] {
    return std::count_if(h.sink.records.begin(), h.sink.records.end(),
                         [](const std::string& r) { return r >= Line(1001); });
  };
  for (int round = 0; round < 4; ++round) {
    const std::size_t before = h.sink.records.size();
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() > before; }));
    h.RunFor(20);         // the pass that finds the budget spent
    h.sink.held.clear();  // the batches are freed: the budget has room again
  }
  // Four reads: two of each file. Before, the file first in line had all four.
  CHECK(from_b() > 0);
  CHECK(from_b() < static_cast<std::ptrdiff_t>(h.sink.records.size()));
}

TEST_CASE(
    "A file renamed out of the globs while reading is paused is drained to its end, not to the size last "
    "read",
    "[tailer][rotation][budget]") {
  // The live file is read to its size, then grows while the memory budget is spent (reading paused), and is
  // renamed out of the glob. Past the drain's quiet time it must still be read to its end: the size its
  // last read saw is not where it ends.
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  // Room for one read: the first one's batch, held unacknowledged, leaves no room for the next.
  Harness h(tmp.path, {live.string()}, /*checkpoints=*/false, /*memory_limit=*/4096);
  h.options.read_chunk_bytes = 4096;
  h.sink.ack = false;
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  Append(live, 101, 200);
  fs::rename(live, tmp.path / "app.log.1");
  h.RunFor(1600);  // past the drain's quiet time (1 s since it went and since its last read)
  CHECK(h.sink.records.size() == 100);  // still paused
  h.sink.ack = true;
  h.AckHeld();  // room again: reading resumes
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 200; }, 3000));
  CHECK(h.sink.records == Lines(1, 200));
  // Then it is drained and closed.
  CHECK(h.RunUntil([&] { return h.tailer->known_files() == 0; }, 5000));
}

TEST_CASE("truncation in place: the file is read again from 0", "[tailer][rotation]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  REQUIRE(::truncate(live.c_str(), 0) == 0);
  Append(live, 101, 110);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 110; }));
  CHECK(h.sink.records == Lines(1, 110));
  CHECK(h.tailer->counters().truncations == 1);
}

TEST_CASE("delete while reading: the open descriptor is drained", "[tailer][rotation]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 20000);  // more than one read chunk
  Harness h(tmp.path, {live.string()});
  h.options.read_chunk_bytes = 4096;
  h.Start();
  fs::remove(live);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 20000; }, 20000));
  REQUIRE(h.RunUntil([&] { return h.tailer->known_files() == 0; }, 5000));
  CHECK(h.sink.records == Lines(1, 20000));
}

TEST_CASE("Checkpoints: a restart resumes after the acknowledged lines", "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  {
    Harness h(tmp.path, {live.string()});
    h.Start();
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
    h.Stop();
  }
  Append(live, 101, 150);
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 50; }));
  h.RunFor(200);
  CHECK(h.sink.records == Lines(101, 150));
}

TEST_CASE("Checkpoints: lines read but not acknowledged are read again after a restart",
          "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  {
    Harness h(tmp.path, {live.string()});
    h.Start();
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
    h.sink.ack = false;
    Append(live, 101, 150);
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 150; }));
    h.Stop();  // 101..150 never acknowledged
  }
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 50; }));
  h.RunFor(200);
  CHECK(h.sink.records == Lines(101, 150));
}

TEST_CASE("Checkpoints: a file rotated while ferry was stopped resumes under its new name",
          "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  {
    Harness h(tmp.path, {(tmp.path / "app.log*").string()});
    h.Start();
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
    h.Stop();
  }
  Append(live, 101, 120);
  fs::rename(live, tmp.path / "app.log.1");
  Append(live, 121, 130);
  Harness h(tmp.path, {(tmp.path / "app.log*").string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 30; }));
  h.RunFor(200);
  auto counts = Counts(h.sink.records);
  CHECK(h.sink.records.size() == 30);
  for (const auto& line : Lines(101, 130)) CHECK(counts[line] == 1);
}

TEST_CASE("Checkpoints: a file rotated out of the globs while ferry was stopped is drained",
          "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  {
    Harness h(tmp.path, {live.string()});
    h.Start();
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
    h.Stop();
  }
  Append(live, 101, 120);  // written after the stop, then rotated away
  fs::rename(live, tmp.path / "app.log.1");
  Append(live, 121, 130);
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 30; }));
  REQUIRE(h.RunUntil([&] { return h.tailer->known_files() == 1; }, 5000));  // the drained file is closed
  auto counts = Counts(h.sink.records);
  CHECK(h.sink.records.size() == 30);
  for (const auto& line : Lines(101, 130)) CHECK(counts[line] == 1);
}

TEST_CASE("A corrupt checkpoint file is moved aside and files are read from their start",
          "[tailer][checkpoint]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 10);
  fs::create_directories(tmp.path / "state" / "checkpoints");
  std::ofstream(tmp.path / "state" / "checkpoints" / "test.json") << "{\"version\": 1, \"files\": [";
  Harness h(tmp.path, {live.string()});
  h.options.start_at = StartAt::kEnd;
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 10; }));
  bool quarantined = false;
  for (const auto& entry : fs::directory_iterator(tmp.path / "state" / "checkpoints")) {
    if (entry.path().filename().string().find(".corrupt-") != std::string::npos) quarantined = true;
  }
  CHECK(quarantined);
}

TEST_CASE("start_at: end skips what files held at the first start, not what comes later", "[tailer]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 10);
  Harness h(tmp.path, {(tmp.path / "*.log").string()});
  h.options.start_at = StartAt::kEnd;
  h.Start();
  h.RunFor(100);
  Append(live, 11, 12);
  Append(tmp.path / "new.log", 13, 14);  // appears later: read from its beginning
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 4; }));
  auto counts = Counts(h.sink.records);
  for (const auto& line : Lines(11, 14)) CHECK(counts[line] == 1);
}

TEST_CASE("A last line without a newline is sent after the quiet time", "[tailer]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  { std::ofstream(live) << "complete\npartial"; }
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 1; }));
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 2; }, 2000));
  CHECK(h.sink.records == std::vector<std::string>{"complete", "partial"});
  CHECK(h.tailer->counters().partial_flushes == 1);
}

TEST_CASE("More files than max_open_files are all read", "[tailer]") {
  TempDir tmp;
  for (int f = 0; f < 7; ++f) Append(tmp.path / fmt::format("f{}.log", f), f * 100 + 1, f * 100 + 100);
  Harness h(tmp.path, {(tmp.path / "*.log").string()});
  h.options.max_open_files = 2;
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 700; }, 10000));
  CHECK(h.tailer->open_files() <= 2);
  auto counts = Counts(h.sink.records);
  CHECK(counts.size() == 700);
}

TEST_CASE("An inactive file is closed and reopened when it grows", "[tailer]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 5);
  Harness h(tmp.path, {live.string()});
  h.options.close_inactive = Duration(100);
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 5; }));
  REQUIRE(h.RunUntil([&] { return h.tailer->open_files() == 0; }, 2000));
  Append(live, 6, 8);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 8; }, 2000));
  CHECK(h.sink.records == Lines(1, 8));
}

// ---- the start-position rules, without files

Fingerprint Full(std::uint64_t hash) {
  return Fingerprint{kFingerprintBytes, hash};
}

TEST_CASE("DecideStart follows the checkpoint of the same identity and content", "[start_position]") {
  std::vector<FileCheckpoint> cps = {{1, 10, Full(7), "/a", 500, 0}};
  std::vector<bool> claimed(1, false);
  auto same = [](const Fingerprint& fp) { return fp.hash == 7; };
  auto d = DecideStart({1, 10, 900, same}, cps, claimed, false, StartAt::kEnd);
  CHECK(d.offset == 500);
  CHECK(d.reason == StartReason::kCheckpoint);
  d = DecideStart({1, 10, 100, same}, cps, claimed, false, StartAt::kEnd);
  CHECK(d.offset == 0);
  CHECK(d.reason == StartReason::kShrunkWhileAway);
  auto other = [](const Fingerprint&) { return false; };
  d = DecideStart({1, 10, 900, other}, cps, claimed, false, StartAt::kEnd);
  CHECK(d.offset == 0);
  CHECK(d.reason == StartReason::kContentChanged);
}

TEST_CASE("DecideStart finds moved content only by a full fingerprint", "[start_position]") {
  std::vector<FileCheckpoint> cps = {{1, 10, Full(7), "/a", 500, 0},
                                     {1, 11, Fingerprint{20, 9}, "/b", 20, 0}};
  std::vector<bool> claimed(2, false);
  auto matches_all = [](const Fingerprint&) { return true; };
  auto d = DecideStart({2, 99, 900, matches_all}, cps, claimed, false, StartAt::kEnd);
  CHECK(d.reason == StartReason::kCheckpointByContent);
  CHECK(d.offset == 500);
  CHECK(d.checkpoint == 0);
  claimed[0] = true;
  d = DecideStart({2, 99, 900, matches_all}, cps, claimed, false, StartAt::kEnd);
  CHECK(d.reason == StartReason::kNewFile);  // the short fingerprint of /b is not trusted
  CHECK(d.offset == 0);
  d = DecideStart({2, 99, 100, matches_all}, cps, std::vector<bool>(2, false), false, StartAt::kEnd);
  CHECK(d.reason == StartReason::kNewFile);  // shorter than the checkpoint's offset
}

TEST_CASE("DecideStart applies start_at only at the first start", "[start_position]") {
  auto none = [](const Fingerprint&) { return false; };
  auto d = DecideStart({1, 1, 300, none}, {}, {}, true, StartAt::kEnd);
  CHECK(d.offset == 300);
  CHECK(d.reason == StartReason::kStartAtEnd);
  d = DecideStart({1, 1, 300, none}, {}, {}, true, StartAt::kBeginning);
  CHECK(d.offset == 0);
  d = DecideStart({1, 1, 300, none}, {}, {}, false, StartAt::kEnd);
  CHECK(d.offset == 0);
  CHECK(d.reason == StartReason::kNewFile);
}

}  // namespace
}  // namespace ferry
