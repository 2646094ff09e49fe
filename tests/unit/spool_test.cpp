// Tests of the spool (agent/spool/spool): entries come back in the order they were written, across
// segments and across a reopen (a restart); acknowledged segments are deleted and unacknowledged ones stay;
// max_bytes refuses appends with kFull and takes them again once room frees; damage between runs (a flipped
// bit, a cut tail, a zeroed tail) costs only the damaged entry; a full disk gives a clear error and the
// spool works again when space returns; replayed entries are charged to the memory budget.
#include "agent/spool/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "tests/unit/signed_request_test_support.h"
#include "tests/unit/scratch_dir.h"

namespace ferry::spool {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  ferry::testing::ScratchDir dir{"ferry-spool"};
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  ferry::testing::FixedClock clock;
  MemoryBudget budget{64 << 20};

  std::string folder() const { return dir / "spool"; }
  std::unique_ptr<Spool> Open(std::uint64_t max_bytes = 1ULL << 30) {
    auto spool = Spool::Open(folder(), max_bytes, "flow test", *log, clock, &budget);
    REQUIRE(spool.ok());
    return std::move(*spool);
  }
  std::vector<std::string> Segments() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(folder())) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
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

// Takes every entry the spool hands out; acknowledges each when ack is set. Returns the record ids in order.
std::vector<std::uint32_t> Drain(Spool& spool, bool ack) {
  std::vector<std::uint32_t> ids;
  std::vector<WireRecord> records;
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
  return ids;
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
  for (std::uint32_t e = 0; e < 10; ++e) REQUIRE(spool->Append(Source(e * 10, 10).records).ok());
  CHECK_FALSE(spool->empty());
  CHECK(spool->entries_pending() == 10);
  CHECK(spool->counters().records_written == 200);
  CHECK(spool->oldest_unix_s() == f.clock.UnixSeconds());
  CHECK(spool->bytes() > 10 * 10 * 100);

  int acked = 0;
  spool->set_on_acked([&] { ++acked; });
  CHECK(Drain(*spool, true) == Range(0, 100));
  CHECK(acked == 10);
  CHECK(spool->empty());
  CHECK(spool->entries_out() == 0);
  CHECK(spool->bytes() == 0);
  CHECK(f.Segments().empty());

  // Appends after a full drain start a new segment and are read as before.
  REQUIRE(spool->Append(Source(500, 3).records).ok());
  CHECK(Drain(*spool, true) == Range(500, 3));
  CHECK(spool->empty());
}

TEST_CASE("entries spread over many segments come back in order; interleaved appends queue behind",
          "[spool]") {
  Fixture f;
  auto spool = f.Open();
  // Each entry ~600 KB of incompressible data: a segment closes after about 7.
  std::uint32_t next = 0;
  for (int e = 0; e < 20; ++e, next += 6) REQUIRE(spool->Append(Source(next, 6, 100'000).records).ok());
  CHECK(f.Segments().size() >= 3);
  std::vector<std::uint32_t> ids;
  std::vector<WireRecord> records;
  // Read a few, append more, read on: appends queue behind what was written before.
  for (int i = 0; i < 5; ++i) {
    REQUIRE(spool->Next(&records));
    for (const auto& r : records) {
      ids.push_back(IdOf(r));
      r.Ack();
    }
  }
  for (int e = 0; e < 3; ++e, next += 6) REQUIRE(spool->Append(Source(next, 6, 100'000).records).ok());
  auto rest = Drain(*spool, true);
  ids.insert(ids.end(), rest.begin(), rest.end());
  CHECK(ids == Range(0, next));
  CHECK(spool->empty());
  CHECK(f.Segments().empty());
}

TEST_CASE("a reopened spool replays what was not acknowledged, oldest first", "[spool]") {
  Fixture f;
  {
    auto spool = f.Open();
    for (std::uint32_t e = 0; e < 4; ++e) REQUIRE(spool->Append(Source(e * 5, 5).records).ok());
    // Nothing acknowledged: the records are dropped (a crash) while handed out.
    CHECK(Drain(*spool, false) == Range(0, 20));
    for (std::uint32_t e = 4; e < 6; ++e) REQUIRE(spool->Append(Source(e * 5, 5).records).ok());
  }
  auto spool = f.Open();
  CHECK_FALSE(spool->empty());
  CHECK(spool->bytes() > 0);
  REQUIRE(spool->Append(Source(30, 5).records).ok());  // new data queues behind the old
  CHECK(Drain(*spool, true) == Range(0, 35));
  CHECK(spool->empty());
  CHECK(f.Segments().empty());
}

TEST_CASE("a segment stays until every entry in it is acknowledged", "[spool]") {
  Fixture f;
  auto spool = f.Open();
  REQUIRE(spool->Append(Source(0, 2).records).ok());
  REQUIRE(spool->Append(Source(2, 2).records).ok());
  std::vector<WireRecord> first, second;
  REQUIRE(spool->Next(&first));
  REQUIRE(spool->Next(&second));
  CHECK(spool->entries_out() == 2);
  for (const auto& r : second) r.Ack();
  CHECK(f.Segments().size() == 1);
  CHECK(spool->entries_pending() == 1);
  first[0].Ack();
  CHECK(f.Segments().size() == 1);  // half an entry is not an entry
  first[1].Ack();
  // Deleted once the reader has also found the segment's end.
  CHECK_FALSE(spool->Next(&first));
  CHECK(f.Segments().empty());
  CHECK(spool->empty());
}

TEST_CASE("max_bytes refuses appends with kFull until acknowledgements free room", "[spool]") {
  Fixture f;
  auto spool = f.Open(200'000);
  int written = 0;
  for (;; ++written) {
    Status s = spool->Append(Source(static_cast<std::uint32_t>(written * 10), 10, 5'000).records);
    if (!s) {
      CHECK(s.error().code() == ErrorCode::kFull);
      CHECK_THAT(s.error().message(), Catch::Contains("max_bytes 200000"));
      break;
    }
  }
  CHECK(written >= 3);
  CHECK(spool->bytes() <= 200'000);
  CHECK(spool->counters().full_refusals == 1);
  CHECK(Drain(*spool, true) == Range(0, static_cast<std::uint32_t>(written * 10)));
  REQUIRE(spool->Append(Source(9000, 10, 5'000).records).ok());
}

// Writes entries of 5 records each (ids 0..), closes the spool, damages its only segment with `damage`, and
// returns the ids a reopened spool hands out, and its counters.
template <typename Damage>
std::pair<std::vector<std::uint32_t>, SpoolCounters> AfterDamage(Fixture& f, int entries, Damage damage) {
  {
    auto spool = f.Open();
    for (int e = 0; e < entries; ++e)
      REQUIRE(spool->Append(Source(static_cast<std::uint32_t>(e * 5), 5, 2000).records).ok());
  }
  auto segments = f.Segments();
  REQUIRE(segments.size() == 1);
  damage(segments[0]);
  auto spool = f.Open();
  auto ids = Drain(*spool, true);
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
      REQUIRE(spool->Append(Source(static_cast<std::uint32_t>(e * 6), 6, 100'000).records).ok());
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
  auto ids = Drain(*spool, true);
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
    failed = spool->Append(Source(static_cast<std::uint32_t>(written * 4), 4, 10'000).records);
    if (!failed) break;
  }
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code() == ErrorCode::kIo);
  CHECK_THAT(failed.error().message(), Catch::Contains("ENOSPC"));
  CHECK(spool->counters().write_errors >= 1);
  // Acknowledging what is there frees the disk; appends succeed again and nothing written was lost.
  CHECK(Drain(*spool, true) == Range(0, static_cast<std::uint32_t>(written * 4)));
  REQUIRE(spool->Append(Source(5000, 4, 10'000).records).ok());
  CHECK(Drain(*spool, true) == Range(5000, 4));
}

TEST_CASE("replayed entries are charged to the memory budget until they are done", "[spool]") {
  Fixture f;
  auto spool = f.Open();
  REQUIRE(spool->Append(Source(0, 10, 10'000).records).ok());
  const std::size_t before = f.budget.used();
  {
    std::vector<WireRecord> records;
    REQUIRE(spool->Next(&records));
    CHECK(f.budget.used() >= before + 100'000);
  }
  CHECK(f.budget.used() == before);  // dropped unacknowledged: memory back, entry still owed
  CHECK(spool->entries_out() == 1);
}

TEST_CASE("opening a spool whose folder cannot be made fails with the path", "[spool]") {
  Fixture f;
  std::ofstream(f.dir / "file") << "x";
  auto spool = Spool::Open(f.dir / "file/spool", 1 << 20, "flow test", *f.log, f.clock, nullptr);
  REQUIRE_FALSE(spool.ok());
  CHECK_THAT(spool.error().message(), Catch::Contains(f.dir / "file/spool"));
}

}  // namespace
}  // namespace ferry::spool
