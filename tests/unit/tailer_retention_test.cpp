// Tests of the files that leave the tailer (agent/source/tailer_retention.cpp), on real files and a real
// libuv loop: a file no longer read stays in the checkpoint until what was read from it is acknowledged,
// so a crash in between finds it again; a deleted file leaves at once; a closed file that grew just before
// it was renamed out of the globs is drained under its new name; a file that comes back reads on.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "agent/checkpoint/checkpoint_store.h"
#include "tests/unit/tailer_harness.h"

namespace ferry {
namespace {

using namespace ferry::testing;  // NOLINT(google-build-using-namespace)

std::uint64_t Inode(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

// The entry of the newest checkpoint file for inode `ino`, if there is one.
std::optional<FileCheckpoint> EntryFor(const Harness& h, std::uint64_t ino) {
  auto loaded = LoadLatestCheckpoints(h.options.checkpoint_path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->set.has_value());
  for (const auto& file : loaded->set->files) {
    if (file.ino == ino) return file;
  }
  return std::nullopt;
}

void CheckEachOnce(const std::vector<std::string>& records, int from, int to) {
  auto counts = Counts(records);
  for (const auto& line : Lines(from, to)) CHECK(counts[line] == 1);
  CHECK(records.size() == static_cast<std::size_t>(to - from + 1));
}

TEST_CASE(
    "A file rotated out of a narrow glob stays in the checkpoint until acknowledged, so a crash resumes it",
    "[tailer][retention]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  {
    Harness h(tmp.path, {live.string()});
    h.sink.ack = false;  // an endpoint that throttles: nothing read is acknowledged yet
    h.Start();
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
    fs::rename(live, tmp.path / "app.log.1");
    Append(live, 101, 110);
    // The rotated file is drained, closed after a second of quiet and forgotten; the new one is read.
    REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 110 && h.tailer->known_files() == 1; }, 5000));
    h.RunFor(150);  // checkpoint intervals pass
    h.Crash();
  }
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 110; }));
  h.RunFor(200);
  CheckEachOnce(h.sink.records, 1, 110);
}

TEST_CASE("A forgotten file leaves the checkpoint once what was read from it is acknowledged",
          "[tailer][retention]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  Harness h(tmp.path, {live.string()});
  h.sink.ack = false;
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  const std::uint64_t rotated = Inode(live);
  fs::rename(live, tmp.path / "app.log.1");
  Append(live, 101, 110);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 110 && h.tailer->known_files() == 1; }, 5000));
  CHECK(h.tailer->retained_files() == 1);
  h.RunFor(150);
  auto kept = EntryFor(h, rotated);
  REQUIRE(kept.has_value());
  CHECK(kept->offset == 0);  // nothing acknowledged yet
  CHECK(kept->path == live.string());

  h.AckHeld();
  REQUIRE(h.RunUntil([&] { return h.tailer->retained_files() == 0; }));
  h.RunFor(150);
  CHECK_FALSE(EntryFor(h, rotated).has_value());
  auto current = EntryFor(h, Inode(live));
  REQUIRE(current.has_value());
  CHECK(current->offset == fs::file_size(live));
}

TEST_CASE("A deleted file leaves the checkpoint at once, as nothing of it could be resumed",
          "[tailer][retention]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 100);
  Harness h(tmp.path, {live.string()});
  h.sink.ack = false;
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  const std::uint64_t deleted = Inode(live);
  fs::remove(live);
  REQUIRE(h.RunUntil([&] { return h.tailer->known_files() == 0; }, 5000));
  CHECK(h.tailer->retained_files() == 0);
  h.RunFor(150);
  CHECK_FALSE(EntryFor(h, deleted).has_value());
}

TEST_CASE("A closed file that grew just before it was renamed out of the globs is drained under its new name",
          "[tailer][retention]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 5);
  Harness h(tmp.path, {live.string()});
  h.options.close_inactive = Duration(100);
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 5; }));
  REQUIRE(h.RunUntil([&] { return h.tailer->open_files() == 0; }, 2000));
  // The writer's last lines, then the rotation, before ferry looks again.
  Append(live, 6, 8);
  fs::rename(live, tmp.path / "app.log.1");
  Append(live, 9, 10);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 10; }, 3000));
  h.RunFor(200);
  CheckEachOnce(h.sink.records, 1, 10);
}

TEST_CASE("A file moved out of the globs and back before it was acknowledged reads on, not again",
          "[tailer][retention]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  fs::path away = tmp.path / "app.log.away";
  Append(live, 1, 100);
  Harness h(tmp.path, {live.string()});
  h.sink.ack = false;
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 100; }));
  fs::rename(live, away);
  REQUIRE(h.RunUntil([&] { return h.tailer->known_files() == 0; }, 5000));
  fs::rename(away, live);
  Append(live, 101, 110);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= 110; }, 3000));
  h.RunFor(200);
  CheckEachOnce(h.sink.records, 1, 110);
  h.AckHeld();
  h.Stop();
  Harness again(tmp.path, {live.string()});
  again.Start();
  again.RunFor(300);
  CHECK(again.sink.records.empty());  // acknowledged through the source it kept
}

}  // namespace
}  // namespace ferry
