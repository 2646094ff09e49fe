// Tests of what the tailer tells each batch about its records (agent/source/tailer_reads.cpp Label): the
// wall time they were read, and the file's identity, which with a record's end offset names the record the
// same way on every run (the `add` plugin's record_id), also for a file that was young when first read, and
// differently for new content in the same inode after a truncation.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/unit/tailer_harness.h"

namespace ferry::testing {
namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads the whole file from its beginning with a fresh tailer (no checkpoints) and returns the sink.
CollectingSink ReadAll(const TempDir& tmp, const fs::path& file, std::size_t lines) {
  Harness h(tmp.path, {file.string()}, /*checkpoints=*/false);
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() >= lines; }));
  CollectingSink out = h.sink;
  out.held.clear();
  h.Stop();
  return out;
}

}  // namespace

TEST_CASE("Batches carry the time they were read, in wall-clock milliseconds", "[tailer][labels]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 10);
  const std::int64_t before = NowMs();
  CollectingSink read = ReadAll(tmp, live, 10);
  const std::int64_t after = NowMs();
  REQUIRE_FALSE(read.read_times_ms.empty());
  for (std::int64_t t : read.read_times_ms) {
    CHECK(t >= before - 1000);  // the clock is whole seconds only if the system's has no finer reading
    CHECK(t <= after);
  }
}

TEST_CASE("A record has the same (file id, offset) when the file is read again, however young it was",
          "[tailer][labels]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 3);  // 63 bytes: far from a full fingerprint
  CollectingSink young = ReadAll(tmp, live, 3);
  Append(live, 4, 200);  // now past 1 KiB: the fingerprint changed, the identity must not
  CollectingSink grown = ReadAll(tmp, live, 200);
  REQUIRE(young.ids.size() == 3);
  REQUIRE(grown.ids.size() == 200);
  CHECK(young.ids[0].first != 0);
  for (std::size_t i = 0; i < 3; ++i) CHECK(grown.ids[i] == young.ids[i]);
  // One file, one identity; offsets tell its records apart.
  for (const auto& id : grown.ids) CHECK(id.first == grown.ids[0].first);
  CHECK(grown.ids[1].second > grown.ids[0].second);
}

TEST_CASE("New content in the same inode after a truncation has another identity", "[tailer][labels]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 20);
  CollectingSink before = ReadAll(tmp, live, 20);
  struct stat st_before {};
  REQUIRE(::stat(live.c_str(), &st_before) == 0);
  fs::resize_file(live, 0);  // copytruncate: same inode, content starts again at 0
  Append(live, 501, 520);
  struct stat st_after {};
  REQUIRE(::stat(live.c_str(), &st_after) == 0);
  REQUIRE(st_after.st_ino == st_before.st_ino);
  CollectingSink after = ReadAll(tmp, live, 20);
  REQUIRE(after.ids.size() == 20);
  CHECK(after.ids[0].first != before.ids[0].first);
  CHECK(after.ids[0].second == before.ids[0].second);  // the offsets repeat: the identity tells them apart
}

}  // namespace ferry::testing
