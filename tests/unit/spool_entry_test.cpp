// Tests of the spool entry codec (agent/spool/spool_entry): batches of records round-trip exactly (binary
// data, empty keys, extreme user_records), whether LZ4 helps or not; every truncation, every stray byte and
// corrupt LZ4 are rejected with a reason; declared sizes and counts that cannot be true are rejected
// before anything is allocated for them (checked by the reason given: the size bound comes first).
#include "agent/spool/spool_entry.h"

#include <lz4.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::spool {
namespace {

std::string Varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

// An entry made by hand from the format's description.
std::string Entry(std::uint8_t version, std::uint8_t flags, std::uint64_t count, std::uint64_t raw_size,
                  std::string_view body) {
  std::string out;
  out.push_back(static_cast<char>(version));
  out.push_back(static_cast<char>(flags));
  out += Varint(count);
  out += Varint(raw_size);
  out.append(body);
  return out;
}

std::string RawRecord(std::string_view data, std::string_view key, std::string_view hash,
                      std::uint64_t users) {
  return Varint(data.size()) + std::string(data) + Varint(key.size()) + std::string(key) +
         Varint(hash.size()) + std::string(hash) + Varint(users);
}

std::string Random(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<SpoolRecord> OddRecords() {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  return {
      {"GET /index.html 200\n", "web-1", "", 1},
      {all_bytes, std::string("k\0ey", 4), "340282366920938463463374607431768211455", 7},
      {"", "", "", 0},
      {std::string(300, 'a'), "", "0", std::numeric_limits<std::uint32_t>::max()},
      {Random(5000, 1), std::string(256, 'p'), "12345678901234567890", 500},
  };
}

std::vector<WireRecord> AsWire(const std::vector<SpoolRecord>& records) {
  std::vector<WireRecord> wire;
  for (const auto& r : records) {
    WireRecord w;
    w.data = r.data;
    w.partition_key = r.partition_key;
    w.explicit_hash_key = r.explicit_hash_key;
    w.user_records = r.user_records;
    wire.push_back(std::move(w));
  }
  return wire;
}

std::string MustEncode(const std::vector<SpoolRecord>& records) {
  auto encoded = EncodeSpoolEntry(std::span<const SpoolRecord>(records));
  REQUIRE(encoded.ok());
  return std::move(*encoded);
}

TEST_CASE("Spool entries round-trip records exactly", "[spool]") {
  auto records = OddRecords();
  auto from_spool = EncodeSpoolEntry(std::span<const SpoolRecord>(records));
  auto wire = AsWire(records);
  auto from_wire = EncodeSpoolEntry(std::span<const WireRecord>(wire));
  REQUIRE(from_spool.ok());
  REQUIRE(from_wire.ok());
  CHECK(*from_spool == *from_wire);
  auto decoded = DecodeSpoolEntry(*from_spool);
  REQUIRE(decoded.ok());
  CHECK(*decoded == records);

  SECTION("no records") {
    std::vector<SpoolRecord> none;
    auto empty = DecodeSpoolEntry(MustEncode(none));
    REQUIRE(empty.ok());
    CHECK(empty->empty());
  }
  SECTION("one record of the largest size an entry holds, and one byte more refused") {
    std::vector<SpoolRecord> big(1);
    big[0].data.assign(kMaxSpoolEntryRawBytes - 4 - 3, '\0');  // 4-byte length varint, 3 one-byte fields
    auto back = DecodeSpoolEntry(MustEncode(big));
    REQUIRE(back.ok());
    CHECK(*back == big);
    big[0].data.push_back('x');
    auto refused = EncodeSpoolEntry(std::span<const SpoolRecord>(big));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("Spool entries are LZ4-compressed only when that makes them smaller", "[spool]") {
  std::vector<SpoolRecord> text(100, SpoolRecord{std::string(200, 'x') + "tail", "key", "", 1});
  std::string packed = MustEncode(text);
  CHECK(packed[1] == static_cast<char>(kSpoolEntryLz4));
  CHECK(packed.size() < 100 * 200 / 10);
  std::vector<SpoolRecord> noise = {{Random(10000, 2), "k", "", 1}};
  std::string stored = MustEncode(noise);
  CHECK(stored[1] == 0);
  CHECK(stored.size() < 10000 + 16);
  for (const auto* records : {&text, &noise}) {
    auto back = DecodeSpoolEntry(MustEncode(*records));
    REQUIRE(back.ok());
    CHECK(*back == *records);
  }
}

TEST_CASE("Spool entries cut short or with bytes added are rejected", "[spool]") {
  std::vector<SpoolRecord> text(20, SpoolRecord{std::string(100, 'y'), "key", "42", 3});
  std::vector<SpoolRecord> noise = {{Random(300, 3), "k", "1", 1}, {Random(200, 4), "", "", 2}};
  for (const auto& entry : {MustEncode(text), MustEncode(noise), MustEncode(OddRecords())}) {
    for (std::size_t n = 0; n < entry.size(); ++n) {
      INFO("cut to " << n << " of " << entry.size() << " bytes");
      auto decoded = DecodeSpoolEntry(std::string_view(entry).substr(0, n));
      REQUIRE_FALSE(decoded.ok());
      CHECK(decoded.error().code() == ErrorCode::kProtocol);
      CHECK_THAT(decoded.error().message(), Catch::StartsWith("spool entry: "));
    }
    for (char extra : {'\0', 'x', '\xff'}) {
      auto decoded = DecodeSpoolEntry(entry + extra);
      CHECK_FALSE(decoded.ok());
    }
  }
}

TEST_CASE("Spool entries with corrupt LZ4 blocks are rejected", "[spool]") {
  struct Case {
    std::uint64_t count = 0;
    std::uint64_t raw_size = 0;
    std::string body;
  };
  // Literal length 15 with its extension byte missing; a match reaching before the start; blocks that
  // hold fewer bytes than declared, and more.
  for (const auto& c : {Case{1, 10, std::string("\xf0", 1)},
                        Case{1, 10,
                             std::string("\x11"
                                         "a\x05\x00",
                                         4)},
                        Case{1, 10, std::string("\x00", 1)},
                        Case{1, 10,
                             std::string("\x50"
                                         "hello",
                                         6)},
                        Case{0, 3,
                             std::string("\x50"
                                         "hello",
                                         6)}}) {
    auto decoded = DecodeSpoolEntry(Entry(1, kSpoolEntryLz4, c.count, c.raw_size, c.body));
    REQUIRE_FALSE(decoded.ok());
    CHECK_THAT(decoded.error().message(), Catch::Contains("LZ4"));
  }
  // Any damage to a real block is either rejected or decodes to something; it never crashes.
  std::vector<SpoolRecord> text(20, SpoolRecord{std::string(100, 'y') + "z", "key", "42", 3});
  std::string entry = MustEncode(text);
  REQUIRE(entry[1] == static_cast<char>(kSpoolEntryLz4));
  std::size_t rejected = 0;
  for (std::size_t i = 2; i < entry.size(); ++i) {
    for (char bit : {'\x01', '\x80'}) {
      std::string damaged = entry;
      damaged[i] ^= bit;
      if (!DecodeSpoolEntry(damaged).ok()) ++rejected;
    }
  }
  CHECK(rejected > 0);
}

TEST_CASE("Spool entries with impossible headers are rejected before allocating", "[spool]") {
  std::string raw = RawRecord("hello", "k", "", 1);
  struct Case {
    std::string entry;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"", "empty"},
      {Entry(2, 0, 1, raw.size(), raw), "version 2 is not supported"},
      {Entry(1, 0x02, 1, raw.size(), raw), "unknown flags 0x02"},
      {Entry(1, 0, 1, 1ull << 40, raw), "more than the 16777216 an entry may hold"},
      {Entry(1, 0, 1, kMaxSpoolEntryRawBytes + 1, raw), "more than the 16777216"},
      // 16 MiB declared for 10 compressed bytes: LZ4 cannot expand them that far.
      {Entry(1, kSpoolEntryLz4, 1, kMaxSpoolEntryRawBytes, std::string(10, '\0')),
       "compressed bytes can hold"},
      {Entry(1, 0, 1ull << 60, raw.size(), raw), "cannot fit"},
      {Entry(1, 0, 5, raw.size(), raw), "cannot fit"},
      {std::string("\x01\x00", 2) + std::string(11, '\xff'), "record count is truncated or too long"},
      {std::string("\x01\x00\x01", 3) + std::string(10, '\xff') + "\x01", "size is truncated or too long"},
      {Entry(1, 0, 1, raw.size() + 1, raw), "not the declared"},
      {Entry(1, 0, 1, 10, Varint(1000) + std::string(8, 'd')), "record 0: data of 1000 bytes, but only 8"},
      {Entry(1, 0, 1, 6, RawRecord("a", "", "", 0).substr(0, 3) + Varint(9) + "bc"),
       "record 0: explicit hash key of 9 bytes, but only 2"},
      {Entry(1, 0, 1, 8, RawRecord("", "", "", 1ull << 32)), "user_records 4294967296 is more than 32 bits"},
      {Entry(1, 0, 1, 4, std::string("\x00\x00\x00\x80", 4)), "user_records is truncated"},
      {Entry(1, 0, 1, 10, RawRecord("", "", "", 1) + std::string(6, 'z')), "6 bytes left over"},
      {Entry(1, 0, 2, 8, RawRecord("", "", "", 1) + RawRecord("", "", "", 1)), ""},  // fine: a control
  };
  for (const auto& c : cases) {
    INFO("expecting: " << c.reason);
    auto decoded = DecodeSpoolEntry(c.entry);
    if (c.reason.empty()) {
      CHECK(decoded.ok());
      continue;
    }
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code() == ErrorCode::kProtocol);
    CHECK_THAT(decoded.error().message(), Catch::Contains(c.reason));
  }
}

}  // namespace
}  // namespace ferry::spool
