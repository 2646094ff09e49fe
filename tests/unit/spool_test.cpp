// Tests of the spool (agent/spool/spool): entries come back in the order they were written, across
// segments and across a reopen (a restart); acknowledged segments are deleted and unacknowledged ones stay;
// max_bytes refuses appends with kFull and takes them again once room frees; damage between runs (a flipped
// bit, a cut tail, a zeroed tail) costs only the damaged entry; a full disk gives a clear error and the
// spool works again when space returns; replayed entries are charged to the memory budget. Off the loop:
// with a sync step slowed down (a test hook sleeping on the pool thread) the loop's 10 ms timer stays on
// time; appends complete in order, those queued behind a slow write share one sync, and a failed sync
// fails every append it covered; a spool with an append under way is not empty; a spool destroyed while
// it writes lets the write finish. The tests run their own loop; the disk jobs run on its thread pool.
#include "agent/spool/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "tests/unit/loop_lateness.h"
#include "tests/unit/scratch_dir.h"
#include "tests/unit/signed_request_test_support.h"
#include "tests/unit/slow_sync.h"

namespace ferry::spool {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  ferry::testing::ScratchDir dir{"ferry-spool"};
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  ferry::testing::FixedClock clock;
  MemoryBudget budget{64 << 20};
  uv_loop_t loop{};

  Fixture() { REQUIRE(uv_loop_init(&loop) == 0); }
  ~Fixture() {
    uv_run(&loop, UV_RUN_DEFAULT);  // disk jobs still running, handles being closed
    CHECK(uv_loop_close(&loop) == 0);
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  std::string folder() const { return dir / "spool"; }
  std::unique_ptr<Spool> Open(std::uint64_t max_bytes = 1ULL << 30, SegmentWriter::SyncCall sync = {}) {
    auto spool = Spool::Open(&loop, folder(), max_bytes, "flow test", *log, clock, &budget, std::move(sync));
    REQUIRE(spool.ok());
    return std::move(*spool);
  }
  std::vector<std::string> Segments() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(folder())) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  // Appends and waits until the entry is written (or refused).
  Status Append(Spool& spool, std::span<const WireRecord> records) {
    std::optional<Status> done;
    Status queued = spool.Append(records, [&](Status s) { done = std::move(s); });
    if (!queued) return queued;
    while (!done) REQUIRE((uv_run(&loop, UV_RUN_ONCE) != 0 || done));
    return *done;
  }
  // Next, waiting for a segment to be read in if need be.
  bool Next(Spool& spool, std::vector<WireRecord>* records) {
    while (!spool.Next(records)) {
      if (spool.idle()) return false;
      uv_run(&loop, UV_RUN_ONCE);
    }
    return true;
  }
  // Runs the loop until the spool has no disk work left (deletions, reads).
  void Settle(const Spool& spool) {
    while (!spool.idle()) uv_run(&loop, UV_RUN_ONCE);
  }
};

// Pseudo-random (incompressible) data, distinct per id.
std::string Data(std::uint32_t id, std::size_t size) {
  std::mt19937 rng(id * 104729u + 3u);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Records with data "id:<n>..." in a batch of their own.
struct Source {
  BatchRef batch{new Batch(0, 0, nullptr, 4096, nullptr)};
  std::vector<WireRecord> records;
  Source(std::uint32_t first, std::size_t count, std::size_t size = 100) {
    for (std::size_t i = 0; i < count; ++i) {
      auto id = static_cast<std::uint32_t>(first + i);
      WireRecord r;
      r.data = batch->arena().Copy(std::to_string(id) + ":" + Data(id, size));
      r.partition_key = batch->arena().Copy("key-" + std::to_string(id));
      r.batch = batch;
      r.user_records = 2;
      records.push_back(r);
    }
  }
};

std::uint32_t IdOf(const WireRecord& r) {
  return static_cast<std::uint32_t>(std::stoul(std::string(r.data.substr(0, r.data.find(':')))));
}

// Takes every entry the spool hands out, waiting for segments to be read in; acknowledges each when ack is
// set. Returns the record ids in order.
std::vector<std::uint32_t> Drain(Fixture& f, Spool& spool, bool ack) {
  std::vector<std::uint32_t> ids;
  std::vector<WireRecord> records;
  for (;;) {
    while (spool.Next(&records)) {
      for (const auto& r : records) {
        REQUIRE(r.partition_key == "key-" + std::to_string(IdOf(r)));
        REQUIRE(r.data.substr(r.data.find(':') + 1) == Data(IdOf(r), r.data.size() - r.data.find(':') - 1));
        REQUIRE(r.user_records == 2);
        ids.push_back(IdOf(r));
        if (ack) r.Ack();
      }
      records.clear();
    }
    if (spool.idle()) return ids;
    uv_run(&f.loop, UV_RUN_ONCE);
  }
}

std::vector<std::uint32_t> Range(std::uint32_t first, std::uint32_t count) {
  std::vector<std::uint32_t> out(count);
  for (std::uint32_t i = 0; i < count; ++i) out[i] = first + i;
  return out;
}

TEST_CASE("the spool hands entries back in order and deletes what is acknowledged", "[spool]") {
  Fixture f;
  auto spool = f.Open();
  CHECK(spool->empty());
  CHECK_FALSE(spool->oldest_unix_s());
  for (std::uint32_t e = 0; e < 10; ++e) REQUIRE(f.Append(*spool, Source(e * 10, 10).records).ok());
  CHECK_FALSE(spool->empty());
  CHECK(spool->entries_pending() == 10);
  CHECK(spool->counters().records_written == 200);
  CHECK(spool->oldest_unix_s() == f.clock.UnixSeconds());
  CHECK(spool->bytes() > 10 * 10 * 100);

  int acked = 0;
  spool->set_on_acked([&] { ++acked; });
  CHECK(Drain(f, *spool, true) == Range(0, 100));
  CHECK(acked == 10);
  CHECK(spool->empty());
  CHECK(spool->entries_out() == 0);
  CHECK(spool->bytes() == 0);
  CHECK(f.Segments().empty());

  // Appends after a full drain start a new segment and are read as before.
  REQUIRE(f.Append(*spool, Source(500, 3).records).ok());
  CHECK(Drain(f, *spool, true) == Range(500, 3));
  CHECK(spool->empty());
}

TEST_CASE("entries spread over many segments come back in order; interleaved appends queue behind",
          "[spool]") {
  Fixture f;
  auto spool = f.Open();
  // Each entry ~600 KB of incompressible data: a segment closes after about 7.
  std::uint32_t next = 0;
  for (int e = 0; e < 20; ++e, next += 6) REQUIRE(f.Append(*spool, Source(next, 6, 100'000).records).ok());
  CHECK(f.Segments().size() >= 3);
  std::vector<std::uint32_t> ids;
  std::vector<WireRecord> records;
  // Read a few, append more, read on: appends queue behind what was written before.
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.Next(*spool, &records));
    for (const auto& r : records) {
      ids.push_back(IdOf(r));
      r.Ack();
    }
  }
  for (int e = 0; e < 3; ++e, next += 6) REQUIRE(f.Append(*spool, Source(next, 6, 100'000).records).ok());
  auto rest = Drain(f, *spool, true);
  ids.insert(ids.end(), rest.begin(), rest.end());
  CHECK(ids == Range(0, next));
  CHECK(spool->empty());
  CHECK(f.Segments().empty());
}

TEST_CASE("a reopened spool replays what was not acknowledged, oldest first", "[spool]") {
  Fixture f;
  {
    auto spool = f.Open();
    for (std::uint32_t e = 0; e < 4; ++e) REQUIRE(f.Append(*spool, Source(e * 5, 5).records).ok());
    // Nothing acknowledged: the records are dropped (a crash) while handed out.
    CHECK(Drain(f, *spool, false) == Range(0, 20));
    for (std::uint32_t e = 4; e < 6; ++e) REQUIRE(f.Append(*spool, Source(e * 5, 5).records).ok());
  }
  auto spool = f.Open();
  CHECK_FALSE(spool->empty());
  CHECK(spool->bytes() > 0);
  REQUIRE(f.Append(*spool, Source(30, 5).records).ok());  // new data queues behind the old
  CHECK(Drain(f, *spool, true) == Range(0, 35));
  CHECK(spool->empty());
  CHECK(f.Segments().empty());
}

TEST_CASE("a segment stays until every entry in it is acknowledged", "[spool]") {
  Fixture f;
  auto spool = f.Open();
  REQUIRE(f.Append(*spool, Source(0, 2).records).ok());
  REQUIRE(f.Append(*spool, Source(2, 2).records).ok());
  std::vector<WireRecord> first, second;
  REQUIRE(f.Next(*spool, &first));
  REQUIRE(f.Next(*spool, &second));
  CHECK(spool->entries_out() == 2);
  for (const auto& r : second) r.Ack();
  f.Settle(*spool);
  CHECK(f.Segments().size() == 1);
  CHECK(spool->entries_pending() == 1);
  first[0].Ack();
  f.Settle(*spool);
  CHECK(f.Segments().size() == 1);  // half an entry is not an entry
  first[1].Ack();
  // Deleted once the reader has also found the segment's end.
  CHECK_FALSE(f.Next(*spool, &first));
  f.Settle(*spool);
  CHECK(f.Segments().empty());
  CHECK(spool->empty());
}

TEST_CASE("max_bytes refuses appends with kFull until acknowledgements free room", "[spool]") {
  Fixture f;
  auto spool = f.Open(200'000);
  int written = 0;
  for (;; ++written) {
    Status s = f.Append(*spool, Source(static_cast<std::uint32_t>(written * 10), 10, 5'000).records);
    if (!s) {
      CHECK(s.error().code() == ErrorCode::kFull);
      CHECK_THAT(s.error().message(), Catch::Contains("max_bytes 200000"));
      break;
    }
  }
  CHECK(written >= 3);
  CHECK(spool->bytes() <= 200'000);
  CHECK(spool->counters().full_refusals == 1);
  CHECK(Drain(f, *spool, true) == Range(0, static_cast<std::uint32_t>(written * 10)));
  REQUIRE(f.Append(*spool, Source(9000, 10, 5'000).records).ok());
}

// Writes entries of 5 records each (ids 0..), closes the spool, damages its only segment with `damage`, and
// returns the ids a reopened spool hands out, and its counters.
template <typename Damage>
std::pair<std::vector<std::uint32_t>, SpoolCounters> AfterDamage(Fixture& f, int entries, Damage damage) {
  {
    auto spool = f.Open();
    for (int e = 0; e < entries; ++e)
      REQUIRE(f.Append(*spool, Source(static_cast<std::uint32_t>(e * 5), 5, 2000).records).ok());
  }
  auto segments = f.Segments();
  REQUIRE(segments.size() == 1);
  damage(segments[0]);
  auto spool = f.Open();
  auto ids = Drain(f, *spool, true);
  CHECK(spool->empty());
  CHECK(f.Segments().empty());
  return {ids, spool->counters()};
}

std::vector<std::uint32_t> Without(std::vector<std::uint32_t> ids, std::uint32_t first, std::uint32_t count) {
  ids.erase(
      std::remove_if(ids.begin(), ids.end(), [&](auto id) { return id >= first && id < first + count; }),
      ids.end());
  return ids;
}

TEST_CASE("a flipped bit costs only the entry it hit", "[spool]") {
  Fixture f;
  auto [ids, counters] = AfterDamage(f, 6, [](const std::string& path) {
    // Entries are ~1 KB compressed... random data does not compress: ~10 KB each; hit the third.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(25'000);
    char c = 0;
    file.read(&c, 1);
    c ^= 0x10;
    file.seekp(25'000);
    file.write(&c, 1);
  });
  CHECK(counters.corruptions >= 1);
  CHECK(ids == Without(Range(0, 30), 10, 5));
}

TEST_CASE("a cut or zeroed tail costs only the last entry", "[spool]") {
  SECTION("cut") {
    Fixture f;
    auto [ids, counters] =
        AfterDamage(f, 4, [](const std::string& path) { fs::resize_file(path, fs::file_size(path) - 100); });
    CHECK(ids == Range(0, 15));
    CHECK(counters.corruptions == 1);
  }
  SECTION("zeroed") {
    Fixture f;
    auto [ids, counters] = AfterDamage(f, 4, [](const std::string& path) {
      const auto size = fs::file_size(path);
      std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(static_cast<std::streamoff>(size - 3000));
      std::string zeros(3000, '\0');
      file.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    });
    CHECK(ids == Range(0, 15));
  }
}

TEST_CASE("a segment that cannot be read is reported and the next ones still arrive", "[spool]") {
  Fixture f;
  {
    auto spool = f.Open();
    for (int e = 0; e < 14; ++e)
      REQUIRE(f.Append(*spool, Source(static_cast<std::uint32_t>(e * 6), 6, 100'000).records).ok());
  }
  auto segments = f.Segments();
  REQUIRE(segments.size() >= 2);
  // The first segment replaced by garbage of the same size.
  const auto size = fs::file_size(segments[0]);
  {
    std::ofstream out(segments[0], std::ios::binary | std::ios::trunc);
    std::string junk = Data(999, size);
    out.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto spool = f.Open();
  auto ids = Drain(f, *spool, true);
  CHECK(spool->counters().corruptions >= 1);
  CHECK_FALSE(ids.empty());
  CHECK(ids.back() == 14 * 6 - 1);  // the later segments arrive whole
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(f.Segments().empty());
}

TEST_CASE("a full disk refuses appends with the errno; the spool works again when space returns", "[spool]") {
  Fixture f;
  if (!f.dir.MountTmpfs("spool", "size=256k")) return;
  auto spool = f.Open();
  int written = 0;
  Status failed;
  for (; written < 100; ++written) {
    failed = f.Append(*spool, Source(static_cast<std::uint32_t>(written * 4), 4, 10'000).records);
    if (!failed) break;
  }
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code() == ErrorCode::kIo);
  CHECK_THAT(failed.error().message(), Catch::Contains("ENOSPC"));
  CHECK(spool->counters().write_errors >= 1);
  // Acknowledging what is there frees the disk; appends succeed again and nothing written was lost.
  CHECK(Drain(f, *spool, true) == Range(0, static_cast<std::uint32_t>(written * 4)));
  REQUIRE(f.Append(*spool, Source(5000, 4, 10'000).records).ok());
  CHECK(Drain(f, *spool, true) == Range(5000, 4));
}

TEST_CASE("replayed entries are charged to the memory budget until they are done", "[spool]") {
  Fixture f;
  auto spool = f.Open();
  REQUIRE(f.Append(*spool, Source(0, 10, 10'000).records).ok());
  const std::size_t before = f.budget.used();
  {
    std::vector<WireRecord> records;
    REQUIRE(f.Next(*spool, &records));
    CHECK(f.budget.used() >= before + 100'000);
  }
  CHECK(f.budget.used() == before);  // dropped unacknowledged: memory back, entry still owed
  CHECK(spool->entries_out() == 1);
}

TEST_CASE("opening a spool whose folder cannot be made fails with the path", "[spool]") {
  Fixture f;
  std::ofstream(f.dir / "file") << "x";
  auto spool = Spool::Open(&f.loop, f.dir / "file/spool", 1 << 20, "flow test", *f.log, f.clock, nullptr);
  REQUIRE_FALSE(spool.ok());
  CHECK_THAT(spool.error().message(), Catch::Contains(f.dir / "file/spool"));
}

using ferry::testing::SlowSync;

TEST_CASE("the loop is not blocked while an entry is written and synced", "[spool][slow_disk]") {
  Fixture f;
  SlowSync sync{300};
  auto spool = f.Open(1ULL << 30, sync.Hook());
  ferry::testing::LoopLateness lateness(&f.loop);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(f.Append(*spool, Source(0, 10).records).ok());
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  CHECK(*sync.calls == 1);
  INFO("the loop was late by up to " << lateness.max_late_ms() << " ms");
  CHECK(lateness.ticks() >= 10);
  CHECK(lateness.max_late_ms() < 150);
  // Reading the segment back is a disk job too.
  CHECK(Drain(f, *spool, true) == Range(0, 10));
}

TEST_CASE("appends complete in order; those queued behind a slow write share one sync", "[spool]") {
  Fixture f;
  SlowSync sync{50};
  auto spool = f.Open(1ULL << 30, sync.Hook());
  std::vector<int> done;
  for (int e = 0; e < 10; ++e) {
    Status queued = spool->Append(Source(static_cast<std::uint32_t>(e * 10), 10).records, [&, e](Status s) {
      CHECK(s.ok());
      CHECK(spool->counters().entries_written >= static_cast<std::uint64_t>(e + 1));  // durable by now
      done.push_back(e);
    });
    REQUIRE(queued.ok());
    CHECK_FALSE(spool->empty());  // on_failure routing queues behind an append under way
  }
  CHECK(spool->appends_pending() == 10);
  CHECK(done.empty());  // nothing is reported before it is durable
  f.Settle(*spool);
  CHECK(done == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  // The first went alone; the nine queued behind it went in one job, with one sync.
  CHECK(spool->counters().syncs == 2);
  CHECK(*sync.calls == 2);
  CHECK(spool->counters().entries_written == 10);
  CHECK(spool->counters().records_written == 200);
  CHECK(spool->appends_pending() == 0);
  CHECK(f.budget.used() == 0);  // the encoded entries were charged while they waited
  CHECK(Drain(f, *spool, true) == Range(0, 100));
}

TEST_CASE("a failed sync fails every append it covered; the next append starts a new segment", "[spool]") {
  Fixture f;
  SlowSync sync{30, {2}};
  auto spool = f.Open(1ULL << 30, sync.Hook());
  std::vector<std::pair<int, bool>> done;
  std::string error;
  for (int e = 0; e < 3; ++e) {
    REQUIRE(spool
                ->Append(Source(static_cast<std::uint32_t>(e * 10), 10).records,
                         [&, e](Status s) {
                           if (!s) error = s.error().message();
                           done.emplace_back(e, s.ok());
                         })
                .ok());
  }
  f.Settle(*spool);
  // Entry 0 alone, then 1 and 2 together, whose sync failed.
  CHECK(done == std::vector<std::pair<int, bool>>{{0, true}, {1, false}, {2, false}});
  CHECK_THAT(error, Catch::Contains("fdatasync") && Catch::Contains("EIO") && Catch::Contains(f.folder()));
  CHECK(spool->counters().write_errors == 2);
  CHECK(spool->counters().entries_written == 1);
  REQUIRE(f.Append(*spool, Source(30, 10).records).ok());
  CHECK(f.Segments().size() == 2);
  // What a failed sync covered may still be on disk and come back: duplicates, never a loss.
  auto ids = Drain(f, *spool, true);
  CHECK(ids.front() == 0);
  CHECK(std::count(ids.begin(), ids.end(), 30) == 1);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
}

TEST_CASE("WhenIdle runs once the disk work under way is done", "[spool]") {
  Fixture f;
  SlowSync sync{100};
  auto spool = f.Open(1ULL << 30, sync.Hook());
  bool idle = false;
  spool->WhenIdle([&] { idle = true; });
  CHECK(idle);  // nothing under way: at once
  idle = false;
  bool appended = false;
  REQUIRE(spool->Append(Source(0, 10).records, [&](Status s) { appended = s.ok(); }).ok());
  spool->WhenIdle([&] {
    CHECK(appended);
    idle = true;
  });
  CHECK_FALSE(idle);
  f.Settle(*spool);
  CHECK(idle);
}

TEST_CASE("a spool destroyed while it writes lets the write finish and calls nobody back", "[spool]") {
  Fixture f;
  SlowSync sync{100};
  bool called = false;
  {
    auto spool = f.Open(1ULL << 30, sync.Hook());
    REQUIRE(spool->Append(Source(0, 10).records, [&](Status) { called = true; }).ok());
    REQUIRE(spool->Append(Source(10, 10).records, [&](Status) { called = true; }).ok());
    CHECK_FALSE(spool->idle());
  }
  uv_run(&f.loop, UV_RUN_DEFAULT);
  CHECK_FALSE(called);
  CHECK(*sync.calls == 1);  // the write under way finished; the queued one was dropped
  CHECK(f.budget.used() == 0);
  auto spool = f.Open();
  CHECK(Drain(f, *spool, true) == Range(0, 10));
}

}  // namespace
}  // namespace ferry::spool
