// Tests of the spool segment log (agent/spool/segment_writer, segment_reader): the bytes match the format
// written down in segment_writer.h; entries of every awkward size round-trip through memory and through a
// file; a segment cut at every byte returns exactly the entries that were complete; a flipped bit costs only
// the entry it hit; zero-filled tails end a segment cleanly and zero-filled holes are reported; garbage
// yields no entries; broken fragment sequences are reported and never glued together; write errors name
// the path and the errno and leave the segment whole (EFBIG through RLIMIT_FSIZE; ENOSPC on a small tmpfs,
// which needs root and is skipped with a warning elsewhere). Tests run on one thread.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "agent/spool/crc32c.h"
#include "agent/spool/segment_reader.h"
#include "agent/spool/segment_writer.h"
#include "tests/unit/file_size_limit.h"
#include "tests/unit/scratch_dir.h"

namespace ferry::spool {
namespace {

namespace fs = std::filesystem;

// A scratch folder per test.
class TempDir : public ferry::testing::ScratchDir {
 public:
  TempDir() : ferry::testing::ScratchDir("ferry-spool") {}
};

// Distinct pseudo-random bytes for entry `id`, so no entry can pass for another.
std::string Entry(std::uint32_t id, std::size_t size) {
  std::mt19937 rng(id * 7919u + 1u);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> Entries(const std::vector<std::size_t>& sizes) {
  std::vector<std::string> entries;
  for (std::size_t i = 0; i < sizes.size(); ++i)
    entries.push_back(Entry(static_cast<std::uint32_t>(i), sizes[i]));
  return entries;
}

// A segment in memory, with where each entry's first fragment begins and its last ends.
struct Framed {
  std::string bytes;
  std::vector<std::uint64_t> starts;
  std::vector<std::uint64_t> ends;
};

Framed Frame(const std::vector<std::string>& entries) {
  Framed f;
  std::uint64_t offset = 0;
  for (const auto& e : entries) {
    std::uint64_t block_left = kBlockSize - offset % kBlockSize;
    f.starts.push_back(block_left < kHeaderSize ? offset + block_left : offset);
    const std::uint64_t before = offset;
    offset = FrameEntry(offset, e, &f.bytes);
    REQUIRE(offset == f.bytes.size());
    REQUIRE(FramedSize(before, e.size()) == offset - before);
    f.ends.push_back(offset);
  }
  return f;
}

struct ReadBack {
  std::vector<std::string> entries;
  std::vector<std::uint64_t> starts;
  std::vector<std::uint64_t> ends;
  std::vector<SegmentCorruption> corruptions;
  SegmentReadStats stats;
};

ReadBack ReadAll(std::string_view bytes) {
  ReadBack r;
  SegmentReader reader(bytes, "seg-1");
  // Every event consumes at least one byte or one partial entry, so this many calls always suffice.
  for (std::size_t guard = 0; guard < 2 * bytes.size() + 8; ++guard) {
    std::string entry;
    SegmentCorruption corruption;
    switch (reader.Next(&entry, &corruption)) {
      case ReadEvent::kEntry:
        r.entries.push_back(std::move(entry));
        r.starts.push_back(reader.entry_offset());
        r.ends.push_back(reader.entry_end());
        continue;
      case ReadEvent::kCorruption:
        CHECK(corruption.segment == "seg-1");
        CHECK(corruption.bytes > 0);
        CHECK(corruption.offset + corruption.bytes <= bytes.size());
        r.corruptions.push_back(std::move(corruption));
        continue;
      case ReadEvent::kEnd:
        r.stats = reader.stats();
        CHECK(reader.Next(nullptr, nullptr) == ReadEvent::kEnd);  // and stays done
        CHECK(r.stats.entries == r.entries.size());
        CHECK(r.stats.corruptions == r.corruptions.size());
        return r;
    }
  }
  FAIL("the reader did not finish");
  return r;
}

// Whether `got` is `all` with some entries left out, in order.
bool IsSubsequence(const std::vector<std::string>& got, const std::vector<std::string>& all) {
  std::size_t i = 0;
  for (const auto& e : got) {
    while (i < all.size() && all[i] != e) ++i;
    if (i == all.size()) return false;
    ++i;
  }
  return true;
}

bool Contains(const std::vector<std::string>& v, const std::string& e) {
  return std::find(v.begin(), v.end(), e) != v.end();
}

// One fragment, made by hand from the format's description rather than by the writer.
std::string Fragment(FragmentType type, std::string_view payload) {
  char t = static_cast<char>(type);
  std::uint32_t crc = crc32c::Mask(crc32c::Value(std::string(1, t) + std::string(payload)));
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  out.push_back(static_cast<char>(payload.size() & 0xff));
  out.push_back(static_cast<char>(payload.size() >> 8));
  out.push_back(t);
  out.append(payload);
  return out;
}

struct FragmentAt {
  std::uint64_t offset = 0;
  std::size_t length = 0;
  std::size_t entry = 0;
};

// The fragments of a framed segment, walked with the format's rules.
std::vector<FragmentAt> Fragments(const Framed& f) {
  std::vector<FragmentAt> out;
  std::uint64_t at = 0;
  while (at < f.bytes.size()) {
    std::uint64_t block_left = kBlockSize - at % kBlockSize;
    if (block_left < kHeaderSize) {
      at += block_left;
      continue;
    }
    std::size_t length = static_cast<unsigned char>(f.bytes[at + 4]) |
                         static_cast<std::size_t>(static_cast<unsigned char>(f.bytes[at + 5])) << 8;
    std::size_t entry = 0;
    while (f.ends[entry] <= at) ++entry;
    out.push_back({at, length, entry});
    at += kHeaderSize + length;
  }
  return out;
}

const std::vector<std::size_t> kAwkwardSizes = {
    0, 1, 100, kBlockSize - kHeaderSize, kBlockSize - kHeaderSize + 1, 3 * kBlockSize + 5, 1u << 20};

TEST_CASE("Segment fragments are laid out as the format says", "[spool]") {
  std::string bytes;
  CHECK(FrameEntry(0, "abc", &bytes) == kHeaderSize + 3);
  CHECK(bytes == Fragment(FragmentType::kFull, "abc"));

  // An entry that fills a block exactly is one FULL fragment, and the next begins the next block.
  bytes.clear();
  std::string fill = Entry(1, kBlockSize - kHeaderSize);
  CHECK(FrameEntry(0, fill, &bytes) == kBlockSize);
  CHECK(bytes == Fragment(FragmentType::kFull, fill));

  // A block tail shorter than a header is zero-filled; with exactly a header's room left, a non-empty
  // entry begins with an empty FIRST fragment.
  for (std::size_t left : {std::size_t{1}, std::size_t{6}, kHeaderSize}) {
    bytes.clear();
    std::string head = Entry(2, kBlockSize - kHeaderSize - left);
    std::uint64_t at = FrameEntry(0, head, &bytes);
    REQUIRE(at == kBlockSize - left);
    std::uint64_t end = FrameEntry(at, "xyz", &bytes);
    std::string expected = Fragment(FragmentType::kFull, head);
    if (left < kHeaderSize) {
      expected.append(left, '\0');
      expected += Fragment(FragmentType::kFull, "xyz");
    } else {
      expected += Fragment(FragmentType::kFirst, "");
      expected += Fragment(FragmentType::kLast, "xyz");
    }
    CHECK(bytes == expected);
    CHECK(end == bytes.size());
    CHECK(FramedSize(at, 3) == end - at);
  }

  // FramedSize agrees with FrameEntry wherever an entry starts and whatever its size.
  for (std::uint64_t at :
       {std::uint64_t{0}, std::uint64_t{1}, kBlockSize - kHeaderSize - 1, kBlockSize - kHeaderSize,
        kBlockSize - kHeaderSize + 1, kBlockSize - 1, kBlockSize, 5 * kBlockSize + 100}) {
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, kBlockSize - kHeaderSize - 1, kBlockSize - kHeaderSize,
          kBlockSize - kHeaderSize + 1, kBlockSize, 2 * (kBlockSize - kHeaderSize),
          2 * (kBlockSize - kHeaderSize) + 1, 3 * kBlockSize + 17}) {
      std::string out;
      INFO("entry of " << size << " bytes at offset " << at);
      CHECK(FramedSize(at, size) == FrameEntry(at, std::string(size, 'e'), &out) - at);
      CHECK(out.size() == FramedSize(at, size));
    }
  }

  // An entry over three blocks: FIRST, MIDDLE, LAST, each filling what its block has left.
  bytes.clear();
  std::string big = Entry(3, 2 * kBlockSize);
  FrameEntry(0, big, &bytes);
  std::string_view b(big);
  std::size_t room = kBlockSize - kHeaderSize;
  CHECK(bytes == Fragment(FragmentType::kFirst, b.substr(0, room)) +
                     Fragment(FragmentType::kMiddle, b.substr(room, room)) +
                     Fragment(FragmentType::kLast, b.substr(2 * room)));
}

TEST_CASE("Segment entries of awkward sizes round-trip", "[spool]") {
  for (std::size_t size : kAwkwardSizes) {
    INFO("entry of " << size << " bytes");
    auto entries = Entries({size});
    Framed f = Frame(entries);
    ReadBack r = ReadAll(f.bytes);
    CHECK(r.entries == entries);
    CHECK(r.starts == f.starts);
    CHECK(r.ends == f.ends);
    CHECK(r.corruptions.empty());
    CHECK(r.stats.zero_tail_bytes == 0);
  }
  // All of them after one another, so each begins at another place in a block.
  std::vector<std::size_t> sizes;
  for (int round = 0; round < 3; ++round)
    sizes.insert(sizes.end(), kAwkwardSizes.begin(), kAwkwardSizes.end());
  auto entries = Entries(sizes);
  Framed f = Frame(entries);
  ReadBack r = ReadAll(f.bytes);
  CHECK(r.entries == entries);
  CHECK(r.starts == f.starts);
  CHECK(r.ends == f.ends);
  CHECK(r.corruptions.empty());
}

TEST_CASE("Segment round-trips many entries, every block tail case included", "[spool]") {
  std::mt19937 rng(42);
  std::vector<std::size_t> sizes;
  sizes.reserve(3000 + kHeaderSize + 1);
  for (int i = 0; i < 3000; ++i) sizes.push_back(rng() % 3 == 0 ? rng() % 8 : rng() % 3000);
  // Sizes that leave 0 to kHeaderSize bytes of a block.
  for (std::size_t left = 0; left <= kHeaderSize; ++left) sizes.push_back(kBlockSize - kHeaderSize - left);
  auto entries = Entries(sizes);
  Framed f = Frame(entries);
  ReadBack r = ReadAll(f.bytes);
  CHECK(r.entries == entries);
  CHECK(r.starts == f.starts);
  CHECK(r.corruptions.empty());
}

TEST_CASE("Segment cut at every byte returns the complete entries before the cut and nothing else",
          "[spool]") {
  // Two blocks: an entry spans the boundary, and the last leaves a short block tail.
  auto entries = Entries({0, 1, 100, 1000, 20000, 15000, 7, 3000, 0, 5000});
  Framed f = Frame(entries);
  REQUIRE(f.bytes.size() > kBlockSize);
  for (std::size_t cut = 0; cut <= f.bytes.size(); ++cut) {
    INFO("cut at " << cut);
    ReadBack r = ReadAll(std::string_view(f.bytes).substr(0, cut));
    std::size_t complete = 0;
    while (complete < entries.size() && f.ends[complete] <= cut) ++complete;
    REQUIRE(r.entries == std::vector<std::string>(entries.begin(), entries.begin() + complete));
    bool at_boundary = complete == entries.size() || cut <= f.starts[complete];
    if (at_boundary) {
      REQUIRE(r.corruptions.empty());
      continue;
    }
    std::string_view tail = std::string_view(f.bytes).substr(f.starts[complete], cut - f.starts[complete]);
    bool tail_all_zero = tail.find_first_not_of('\0') == std::string_view::npos;
    // A cut inside a header whose first bytes are zero looks like a zero-filled tail: a clean end.
    REQUIRE(r.corruptions.size() == (tail_all_zero ? 0u : 1u));
    if (!tail_all_zero) {
      // The lost entry's bytes, up to where a zero-filled tail (a cut header's zero bytes) began.
      CHECK(r.corruptions[0].offset == f.starts[complete]);
      CHECK(r.corruptions[0].bytes + r.stats.zero_tail_bytes == cut - f.starts[complete]);
    }
  }
}

TEST_CASE("Segment with a flipped bit in a fragment loses only that fragment's entry", "[spool]") {
  auto entries = Entries({50, 0, 3000, 40000, 10, 70000, 20, 5, 100, 30000, 1});
  Framed f = Frame(entries);
  auto fragments = Fragments(f);
  REQUIRE(fragments.size() > entries.size());
  for (const auto& frag : fragments) {
    // A bit of the checksum, of the type, and of the payload's first and last bytes.
    std::vector<std::pair<std::uint64_t, char>> flips = {
        {frag.offset + 1, 0x10}, {frag.offset + 6, 0x02}, {frag.offset + 6, 0x04}};
    if (frag.length > 0) {
      flips.push_back({frag.offset + kHeaderSize, 0x01});
      flips.push_back({frag.offset + kHeaderSize + frag.length - 1, static_cast<char>(0x80)});
    }
    for (auto [at, bit] : flips) {
      INFO("fragment at " << frag.offset << " of entry " << frag.entry << ", flip at " << at);
      std::string bytes = f.bytes;
      bytes[at] ^= bit;
      ReadBack r = ReadAll(bytes);
      auto expected = entries;
      expected.erase(expected.begin() + static_cast<std::ptrdiff_t>(frag.entry));
      CHECK(r.entries == expected);
      REQUIRE_FALSE(r.corruptions.empty());
      for (const auto& c : r.corruptions) {
        CHECK(c.offset >= f.starts[frag.entry]);
        CHECK(c.offset + c.bytes <= f.ends[frag.entry]);
      }
    }
  }
}

TEST_CASE("Segment with a flipped length bit loses at most the rest of that block", "[spool]") {
  auto entries = Entries({50, 0, 3000, 40000, 10, 70000, 20, 5, 100, 30000, 1});
  Framed f = Frame(entries);
  for (const auto& frag : Fragments(f)) {
    for (int bit = 0; bit < 16; ++bit) {
      INFO("fragment at " << frag.offset << ", length bit " << bit);
      std::string bytes = f.bytes;
      bytes[frag.offset + 4 + bit / 8] ^= static_cast<char>(1 << (bit % 8));
      ReadBack r = ReadAll(bytes);
      CHECK(IsSubsequence(r.entries, entries));
      CHECK_FALSE(Contains(r.entries, entries[frag.entry]));
      CHECK_FALSE(r.corruptions.empty());
      std::uint64_t block_end = (frag.offset / kBlockSize + 1) * kBlockSize;
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i != frag.entry && (f.ends[i] <= frag.offset || f.starts[i] >= block_end)) {
          CHECK(Contains(r.entries, entries[i]));
        }
      }
    }
  }
}

TEST_CASE("Segment zero-filled tails end it cleanly", "[spool]") {
  auto entries = Entries({10, 40000, 3});
  Framed f = Frame(entries);
  for (std::size_t zeros :
       {std::size_t{1}, std::size_t{6}, std::size_t{7}, std::size_t{5000}, 3 * kBlockSize}) {
    INFO(zeros << " zero bytes");
    ReadBack r = ReadAll(f.bytes + std::string(zeros, '\0'));
    CHECK(r.entries == entries);
    CHECK(r.corruptions.empty());
    CHECK(r.stats.zero_tail_offset == f.bytes.size());
    CHECK(r.stats.zero_tail_bytes == zeros);
  }
  SECTION("a torn last entry followed by zeros is reported once, with the zero tail") {
    std::string bytes = f.bytes + std::string(kBlockSize, '\0');
    std::uint64_t torn_from = f.starts[1] + 20000;  // inside the 40000-byte entry's FIRST fragment
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(torn_from), bytes.end(), '\0');
    ReadBack r = ReadAll(bytes);
    CHECK(r.entries == std::vector<std::string>{entries[0]});
    REQUIRE(r.corruptions.size() == 1);
    CHECK(r.corruptions[0].offset == f.starts[1]);
    CHECK_THAT(r.corruptions[0].reason, Catch::Contains("checksum mismatch"));
    CHECK(r.stats.zero_tail_offset == kBlockSize);
  }
  SECTION("zeros from an entry's first byte to the end are a clean zero tail") {
    std::string bytes = f.bytes;
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(f.starts[2]), bytes.end(), '\0');
    ReadBack r = ReadAll(bytes);
    CHECK(r.entries == std::vector<std::string>{entries[0], entries[1]});
    CHECK(r.corruptions.empty());
    CHECK(r.stats.zero_tail_offset == f.starts[2]);
  }
}

TEST_CASE("Segment zero-filled holes are reported and reading goes on past them", "[spool]") {
  auto entries = Entries({100, 200, 300, 400, 500, 40000, 600, 700, 800});
  Framed f = Frame(entries);
  SECTION("a hole over whole entries costs only those entries") {
    std::string bytes = f.bytes;
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(f.starts[1]),
              bytes.begin() + static_cast<std::ptrdiff_t>(f.ends[2]), '\0');
    ReadBack r = ReadAll(bytes);
    auto expected = entries;
    expected.erase(expected.begin() + 1, expected.begin() + 3);
    CHECK(r.entries == expected);
    REQUIRE(r.corruptions.size() == 1);
    CHECK(r.corruptions[0].offset == f.starts[1]);
    CHECK(r.corruptions[0].bytes == f.ends[2] - f.starts[1]);
    CHECK_THAT(r.corruptions[0].reason, Catch::Contains("zero-filled hole"));
    CHECK(r.stats.zero_tail_bytes == 0);
  }
  SECTION("a hole across a block boundary, mid-fragment, costs the entries it touches") {
    std::string bytes = f.bytes;
    std::uint64_t from = kBlockSize - 1000;
    std::uint64_t to = kBlockSize + 1000;
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(from),
              bytes.begin() + static_cast<std::ptrdiff_t>(to), '\0');
    ReadBack r = ReadAll(bytes);
    CHECK(IsSubsequence(r.entries, entries));
    for (std::size_t i = 0; i < entries.size(); ++i) {
      bool touched = f.ends[i] > from && f.starts[i] < to;
      if (touched) CHECK_FALSE(Contains(r.entries, entries[i]));
      if (f.ends[i] <= from || f.starts[i] >= 2 * kBlockSize) CHECK(Contains(r.entries, entries[i]));
    }
    CHECK_FALSE(r.corruptions.empty());
  }
}

TEST_CASE("Segment garbage after the last entry yields no entries", "[spool]") {
  auto entries = Entries({10, 40000, 3});
  Framed f = Frame(entries);
  std::mt19937 rng(9);
  for (std::size_t n : {std::size_t{3}, std::size_t{100}, std::size_t{100000}}) {
    INFO(n << " bytes of garbage");
    std::string garbage(n, '\0');
    for (auto& c : garbage) c = static_cast<char>(rng() | 1);  // no zero run to pass for a zero tail
    ReadBack r = ReadAll(f.bytes + garbage);
    CHECK(r.entries == entries);
    REQUIRE_FALSE(r.corruptions.empty());
    for (const auto& c : r.corruptions) CHECK(c.offset >= f.bytes.size());
    std::uint64_t skipped = 0;
    for (const auto& c : r.corruptions) skipped += c.bytes;
    CHECK(skipped == r.stats.bytes_skipped);
  }
}

TEST_CASE("Segment fragments out of sequence are reported and never glued together", "[spool]") {
  auto full = [](std::string_view s) { return Fragment(FragmentType::kFull, s); };
  auto first = [](std::string_view s) { return Fragment(FragmentType::kFirst, s); };
  auto middle = [](std::string_view s) { return Fragment(FragmentType::kMiddle, s); };
  auto last = [](std::string_view s) { return Fragment(FragmentType::kLast, s); };
  struct Case {
    std::string bytes;
    std::vector<std::string> entries;
    std::size_t corruptions = 0;
  };
  std::vector<Case> cases = {
      {first("a") + middle("b") + last("c"), {"abc"}, 0},
      {first("a") + full("y"), {"y"}, 1},
      {first("a") + first("b") + last("c") + full("d"), {"bc", "d"}, 1},
      {middle("x") + full("y"), {"y"}, 1},
      {last("x") + full("y"), {"y"}, 1},
      {middle("x") + middle("x") + last("x") + full("y"), {"y"}, 1},  // one report for the whole orphan
      {middle("x") + last("x") + middle("z") + full("y"), {"y"}, 2},
      {full("y") + first("a") + middle("b"), {"y"}, 1},
      {full("y") + first("a"), {"y"}, 1},
      {Fragment(static_cast<FragmentType>(5), "?") + full("y"), {"y"}, 1},
      {Fragment(static_cast<FragmentType>(0), "?") + full("y"), {"y"}, 1},
  };
  for (const auto& c : cases) {
    ReadBack r = ReadAll(c.bytes);
    CHECK(r.entries == c.entries);
    CHECK(r.corruptions.size() == c.corruptions);
  }

  SECTION("an entry whose FIRST is damaged is not glued to the next entry's fragments") {
    auto entries = Entries({40000, 40000});
    Framed f = Frame(entries);
    std::string bytes = f.bytes;
    bytes[f.starts[0] + kHeaderSize + 5] ^= 1;  // the first entry's FIRST
    ReadBack r = ReadAll(bytes);
    CHECK(r.entries == std::vector<std::string>{entries[1]});
    REQUIRE(r.corruptions.size() == 2);  // the damaged FIRST, then its orphaned LAST
    CHECK_THAT(r.corruptions[1].reason, Catch::Contains("start is lost"));
  }
  SECTION("a segment that begins mid-entry reports the orphaned fragments") {
    auto entries = Entries({70000, 5});
    Framed f = Frame(entries);
    ReadBack r = ReadAll(std::string_view(f.bytes).substr(kBlockSize));
    CHECK(r.entries == std::vector<std::string>{entries[1]});
    REQUIRE(r.corruptions.size() == 1);
    CHECK(r.corruptions[0].offset == 0);
    CHECK(r.corruptions[0].bytes == f.ends[0] - kBlockSize);
  }
}

TEST_CASE("MaxFramedSize bounds an entry's framing wherever it is written, by a few headers", "[spool]") {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{100}, kBlockSize - kHeaderSize,
        kBlockSize - kHeaderSize + 1, kBlockSize, 3 * kBlockSize + 5, std::size_t{1} << 20}) {
    std::uint64_t most = 0;
    for (std::uint64_t offset = 0; offset < 2 * kBlockSize; ++offset)
      most = std::max(most, FramedSize(offset, size));
    INFO("entry of " << size << " bytes");
    CHECK(most <= MaxFramedSize(size));
    CHECK(MaxFramedSize(size) - most <= 2 * kHeaderSize);
  }
}

TEST_CASE("SegmentWriter writes what FrameEntry frames and LoadSegment reads it back", "[spool]") {
  TempDir dir;
  std::string path = dir / "000001.seg";
  auto entries = Entries({0, 1, 100, kBlockSize - kHeaderSize, 3 * kBlockSize + 5, 1u << 20, 77});
  auto writer = SegmentWriter::Create(path);
  REQUIRE(writer.ok());
  for (const auto& e : entries) REQUIRE(writer->Append(e).ok());
  REQUIRE(writer->Sync().ok());
  CHECK(writer->offset() == Frame(entries).bytes.size());
  REQUIRE(writer->Append("after the sync").ok());
  REQUIRE(writer->Close().ok());
  entries.push_back("after the sync");

  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  auto bytes = LoadSegment(path);
  REQUIRE(bytes.ok());
  CHECK(*bytes == Frame(entries).bytes);
  ReadBack r = ReadAll(*bytes);
  CHECK(r.entries == entries);
  CHECK(r.corruptions.empty());

  SECTION("a writer never reopens a segment") {
    auto again = SegmentWriter::Create(path);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code() == ErrorCode::kIo);
    CHECK_THAT(again.error().message(), Catch::Contains(path) && Catch::Contains("File exists"));
  }
  SECTION("a closed writer refuses to append") {
    auto w = SegmentWriter::Create(dir / "2.seg");
    REQUIRE(w.ok());
    SegmentWriter moved = std::move(*w);
    REQUIRE(moved.Close().ok());
    CHECK_FALSE(moved.Append("x").ok());
  }
  SECTION("LoadSegment names the path in its errors") {
    auto missing = LoadSegment(dir / "nope.seg");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == ErrorCode::kNotFound);
    CHECK_THAT(missing.error().message(), Catch::Contains("nope.seg") && Catch::Contains("ENOENT"));
    auto folder = LoadSegment(dir / "");
    REQUIRE_FALSE(folder.ok());
    CHECK_THAT(folder.error().message(), Catch::Contains("not a regular file"));
    std::string big = dir / "big.seg";
    {
      int fd = ::open(big.c_str(), O_WRONLY | O_CREAT, 0644);
      REQUIRE(fd >= 0);
      REQUIRE(::ftruncate(fd, static_cast<off_t>(kMaxSegmentBytes + 1)) == 0);
      ::close(fd);
    }
    auto too_big = LoadSegment(big);
    REQUIRE_FALSE(too_big.ok());
    CHECK_THAT(too_big.error().message(), Catch::Contains("big.seg") && Catch::Contains("more than"));
  }
}

TEST_CASE("SegmentWriter refuses to grow a segment past kMaxSegmentBytes", "[spool]") {
  TempDir dir;
  std::string path = dir / "full.seg";
  auto writer = SegmentWriter::Create(path);
  REQUIRE(writer.ok());
  std::string entry(kMaxSegmentBytes / 2, 'x');
  CHECK(writer->Fits(entry.size()));
  CHECK_FALSE(writer->Fits(std::numeric_limits<std::size_t>::max()));
  REQUIRE(writer->Append(entry).ok());
  CHECK_FALSE(writer->Fits(entry.size()));
  auto refused = writer->Append(entry);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(refused.error().message(), Catch::Contains(path));
  REQUIRE(writer->Append("small").ok());  // still usable
  REQUIRE(writer->Close().ok());
  auto bytes = LoadSegment(path);
  REQUIRE(bytes.ok());
  CHECK(ReadAll(*bytes).entries == std::vector<std::string>{entry, "small"});
}

using ferry::testing::FileSizeLimit;

TEST_CASE("SegmentWriter cuts off a partly written entry and stays usable", "[spool]") {
  TempDir dir;
  std::string path = dir / "limited.seg";
  auto writer = SegmentWriter::Create(path);
  REQUIRE(writer.ok());
  auto entries = Entries({1000, 20000, 5000});
  std::string too_big = Entry(99, 30000);
  {
    FileSizeLimit limit(40000);
    for (const auto& e : entries) REQUIRE(writer->Append(e).ok());
    std::uint64_t before = writer->offset();
    auto failed = writer->Append(too_big);  // the first part of it fits under the limit
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code() == ErrorCode::kIo);
    CHECK_THAT(failed.error().message(), Catch::Contains(path) && Catch::Contains("File too large (EFBIG)"));
    CHECK(writer->offset() == before);
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(static_cast<std::uint64_t>(st.st_size) == before);
    REQUIRE(writer->Append("fits").ok());
  }
  entries.push_back("fits");
  REQUIRE(writer->Sync().ok());
  REQUIRE(writer->Close().ok());
  auto bytes = LoadSegment(path);
  REQUIRE(bytes.ok());
  ReadBack r = ReadAll(*bytes);
  CHECK(r.entries == entries);
  CHECK(r.corruptions.empty());
}

TEST_CASE("SegmentWriter reports a full file system by path and errno", "[spool]") {
  TempDir dir;
  if (!dir.MountTmpfs("small", "size=64k")) return;
  std::string path = dir / "small/1.seg";
  auto writer = SegmentWriter::Create(path);
  REQUIRE(writer.ok());
  Status status = Status::Ok();
  std::vector<std::string> written;
  for (std::uint32_t i = 0; i < 100 && status.ok(); ++i) {
    std::string e = Entry(i, 10000);
    status = writer->Append(e);
    if (status.ok()) written.push_back(e);
  }
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error().message(),
             Catch::Contains(path) && Catch::Contains("No space left on device (ENOSPC)"));
  REQUIRE(writer->Sync().ok());
  REQUIRE(writer->Close().ok());
  auto bytes = LoadSegment(path);
  REQUIRE(bytes.ok());
  ReadBack r = ReadAll(*bytes);
  CHECK(r.entries == written);
  CHECK(r.corruptions.empty());
}

}  // namespace
}  // namespace ferry::spool
