// What the tailer does with bad input: binary bytes, invalid UTF-8, a 50 MiB line, paths that are not
// regular files, unreadable files, files that vanish, and files truncated while written. Each has its
// outcome, a counter, and the rest of the flow goes on.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "agent/source/file_tailer.h"
#include "tests/unit/tailer_harness.h"
#include "tests/unit/without_file_capabilities.h"

namespace ferry {
namespace {

using namespace ferry::testing;  // NOLINT(google-build-using-namespace)

const TailedFileStatus* StatusOf(const std::vector<TailedFileStatus>& files, const fs::path& path) {
  for (const auto& f : files) {
    if (f.path == path.string()) return &f;
  }
  return nullptr;
}

TEST_CASE("A 50 MiB line becomes 1 MiB records, with memory bounded by the read chunk",
          "[tailer][bad_input]") {
  TempDir tmp;
  fs::path live = tmp.path / "big.log";
  constexpr std::size_t kLine = 50u << 20;
  {
    std::ofstream out(live, std::ios::binary);
    std::string chunk(1 << 20, 'x');
    for (std::size_t i = 0; i < kLine / chunk.size(); ++i) {
      chunk[0] = static_cast<char>('a' + i % 26);  // each piece distinct
      out << chunk;
    }
    out << "\nafter\n";
  }
  Harness h(tmp.path, {live.string()});
  h.sink.ack = false;  // acknowledged later, as a sender would: reads inside the line finish first
  FramerOptions framing;
  framing.max_record_bytes = 1 << 20;
  h.Start(framing);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 51; }, 60000));
  for (auto& b : h.sink.held) b->Ack(b->records().size());
  h.sink.held.clear();
  for (std::size_t i = 0; i < 50; ++i) {
    INFO(i);
    CHECK(h.sink.records[i].size() == (1u << 20));
    CHECK(h.sink.records[i][0] == static_cast<char>('a' + i % 26));
  }
  CHECK(h.sink.records[50] == "after");
  CHECK(h.tailer->counters().framing.split_records == 49);
  CHECK(h.tailer->Files().at(0).figures.oversize_records == 49);
  CHECK(h.tailer->Files().at(0).committed == fs::file_size(live));
}

TEST_CASE("Binary bytes, NUL and invalid UTF-8 pass through unchanged", "[tailer][bad_input]") {
  TempDir tmp;
  fs::path live = tmp.path / "bin.log";
  const std::string odd = std::string("nul") + '\0' + "inside\xff\xfe\xc3(" + "\x80" + "end";
  {
    std::ofstream(live, std::ios::binary) << odd << '\n'
                                          << "plain\n"
                                          << "latin1 caf\xe9\n"
                                          << "ok \xc3\xa9\n";
  }
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 4; }));
  CHECK(h.sink.records[0] == odd);
  CHECK(h.sink.records[1] == "plain");
  CHECK(h.sink.records[2] == "latin1 caf\xe9");
  CHECK(h.sink.records[3] == "ok \xc3\xa9");
  const FileFigures& f = h.tailer->counters().files;
  CHECK(f.nul_records == 1);
  CHECK(f.invalid_utf8_records == 2);
  CHECK(h.tailer->Files().at(0).figures.invalid_utf8_records == 2);
}

TEST_CASE("A file that vanishes before it is read is skipped without harm", "[tailer][bad_input]") {
  TempDir tmp;
  Append(tmp.path / "a.log", 1, 5);
  Append(tmp.path / "b.log", 6, 10);
  Harness h(tmp.path, {(tmp.path / "*.log").string()});
  fs::remove(tmp.path / "b.log");  // gone before the first scan finds it
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 5; }));
  Append(tmp.path / "c.log", 11, 12);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 7; }));
}

TEST_CASE("Paths that are not regular files are skipped once each, counted, and the rest is read",
          "[tailer][bad_input]") {
  TempDir tmp;
  Append(tmp.path / "a.log", 1, 5);
  fs::create_directory(tmp.path / "dir.log");
  REQUIRE(::mkfifo((tmp.path / "pipe.log").c_str(), 0644) == 0);
  fs::create_symlink("/dev/null", tmp.path / "device.log");  // a character device through a symlink
  fs::create_symlink(tmp.path / "missing", tmp.path / "dangling.log");
  Harness h(tmp.path, {(tmp.path / "*.log").string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 5; }));
  h.RunFor(200);  // several rescans: each path is still counted once
  const TailerCounters& c = h.tailer->counters();
  CHECK(c.skipped_not_regular == 3);
  CHECK(c.skipped_broken_links == 1);
  CHECK(h.tailer->known_files() == 1);
  Append(tmp.path / "a.log", 6, 7);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 7; }));
  // A path that stops being a problem and becomes one again is counted again.
  fs::remove(tmp.path / "pipe.log");
  h.RunFor(150);
  REQUIRE(::mkfifo((tmp.path / "pipe.log").c_str(), 0644) == 0);
  REQUIRE(h.RunUntil([&] { return h.tailer->counters().skipped_not_regular == 4; }));
}

TEST_CASE("An unreadable file is skipped and counted until it can be read, then read from 0",
          "[tailer][bad_input]") {
  TempDir tmp;
  WithoutFileCapabilities as_user;
  REQUIRE(as_user.active());
  Append(tmp.path / "a.log", 1, 3);
  Append(tmp.path / "secret.log", 10, 12);
  fs::permissions(tmp.path / "secret.log", fs::perms::none);
  Harness h(tmp.path, {(tmp.path / "*.log").string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 3; }));
  h.RunFor(200);
  CHECK(h.tailer->counters().skipped_unreadable == 1);
  CHECK(h.tailer->known_files() == 1);
  fs::permissions(tmp.path / "secret.log", fs::perms::owner_read | fs::perms::owner_write);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 6; }));
  CHECK(Counts(h.sink.records) == Counts({Line(1), Line(2), Line(3), Line(10), Line(11), Line(12)}));
  CHECK(h.tailer->counters().skipped_unreadable == 1);
}

TEST_CASE("A file that vanishes while it waits for a descriptor is counted, the rest is read",
          "[tailer][bad_input]") {
  TempDir tmp;
  Append(tmp.path / "a.log", 1, 5);
  Append(tmp.path / "b.log", 6, 10);
  Append(tmp.path / "c.log", 11, 15);
  Harness h(tmp.path, {(tmp.path / "*.log").string()});
  h.options.max_open_files = 1;
  h.Start();  // a.log is open, b.log and c.log wait
  fs::remove(tmp.path / "b.log");
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 10; }));
  CHECK(Counts(h.sink.records) == Counts([] {
          auto v = Lines(1, 5);
          auto w = Lines(11, 15);
          v.insert(v.end(), w.begin(), w.end());
          return v;
        }()));
  REQUIRE(h.RunUntil([&] { return h.tailer->counters().vanished == 1; }));
}

TEST_CASE("A file truncated and written past the read offset before the next look is read again",
          "[tailer][bad_input][rotation]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 10);
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 10; }));
  // Between two looks: truncated, then more written than was there (an O_APPEND writer).
  fs::resize_file(live, 0);
  Append(live, 101, 130);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 40; }));
  h.RunFor(100);
  auto expected = Lines(1, 10);
  auto after = Lines(101, 130);
  expected.insert(expected.end(), after.begin(), after.end());
  CHECK(h.sink.records == expected);
  CHECK(h.tailer->counters().truncations == 1);
  auto files_now = h.tailer->Files();
  const auto* st = StatusOf(files_now, live);
  REQUIRE(st != nullptr);
  CHECK(st->figures.rotations == 1);
}

TEST_CASE("A writer without O_APPEND leaves a hole after a truncation: its NUL bytes are skipped",
          "[tailer][bad_input][rotation]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  int writer = ::open(live.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);  // keeps its own offset
  REQUIRE(writer >= 0);
  auto write_lines = [&](int from, int to) {
    for (int i = from; i <= to; ++i) {
      std::string l = Line(i) + "\n";
      REQUIRE(::write(writer, l.data(), l.size()) == static_cast<ssize_t>(l.size()));
    }
  };
  write_lines(1, 200);
  Harness h(tmp.path, {live.string()});
  h.Start();
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 200; }));
  SECTION("the truncation is seen before the writer goes on") {
    REQUIRE(::truncate(live.c_str(), 0) == 0);
    REQUIRE(h.RunUntil([&] { return h.tailer->counters().truncations == 1; }));
    write_lines(201, 210);
  }
  SECTION("the writer goes on before the truncation is seen") {
    REQUIRE(::truncate(live.c_str(), 0) == 0);
    write_lines(201, 210);
  }
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 210; }));
  h.RunFor(200);
  ::close(writer);
  CHECK(h.sink.records.size() == 210);
  CHECK(h.sink.records.back() == Line(210));
  for (const auto& r : h.sink.records) CHECK(r.find('\0') == std::string::npos);
  const TailerCounters& c = h.tailer->counters();
  CHECK(c.files.hole_bytes_skipped == 200 * (Line(1).size() + 1));
  CHECK(c.files.nul_records == 0);
  CHECK(c.truncations == 1);
}

TEST_CASE("Per-file figures: bytes read and behind, records, oversize records, rotations",
          "[tailer][figures]") {
  TempDir tmp;
  fs::path live = tmp.path / "app.log";
  Append(live, 1, 10);
  { std::ofstream(live, std::ios::app) << std::string(250, 'x') << '\n'; }
  Harness h(tmp.path, {(tmp.path / "app.log*").string()});
  h.sink.ack = false;
  FramerOptions framing;
  framing.max_record_bytes = 100;
  h.Start(framing);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 13; }));
  auto bytes = static_cast<std::uint64_t>(fs::file_size(live));
  auto files_now = h.tailer->Files();
  const auto* st = StatusOf(files_now, live);
  REQUIRE(st != nullptr);
  CHECK(st->offset == bytes);
  CHECK(st->size == bytes);
  CHECK(st->bytes_behind() == 0);
  CHECK(st->committed == 0);  // nothing acknowledged yet
  CHECK(st->open);
  CHECK(st->figures.bytes_read == bytes);
  CHECK(st->figures.records == 13);
  CHECK(st->figures.oversize_records == 2);  // 250 bytes at 100: two pieces cut off
  CHECK(st->figures.rotations == 0);
  for (auto& b : h.sink.held) b->Ack(b->records().size());
  h.sink.held.clear();
  fs::rename(live, tmp.path / "app.log.1");
  Append(live, 11, 12);
  REQUIRE(h.RunUntil([&] { return h.sink.records.size() == 15; }));
  h.RunFor(100);
  auto files = h.tailer->Files();
  const auto* rotated = StatusOf(files, tmp.path / "app.log.1");
  REQUIRE(rotated != nullptr);
  CHECK(rotated->figures.rotations == 1);
  CHECK(rotated->committed == bytes);
  const auto* fresh = StatusOf(files, live);
  REQUIRE(fresh != nullptr);
  CHECK(fresh->figures.records == 2);
  const TailerCounters& c = h.tailer->counters();
  CHECK(c.files.records == 15);
  CHECK(c.files.bytes_read == bytes + fs::file_size(live));
  CHECK(c.files.oversize_records == 2);
  CHECK(c.files.rotations == 1);
}

}  // namespace
}  // namespace ferry
