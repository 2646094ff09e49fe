// Tests of hash keys (agent/kinesis/hash_key): MD5 of partition keys as Kinesis computes them, and the
// decimal spelling ListShards uses, both ways.
//
// Expected values come from node, the way kinesalite computes hash keys:
//   node -e 'const c=require("crypto"); for (const k of ["", "a", ...]) {
//     const h=c.createHash("md5").update(k,"utf8").digest("hex"); console.log(h, BigInt("0x"+h).toString())
//     }'
#include "agent/kinesis/hash_key.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

// Failed checks print hash keys in decimal.
namespace Catch {
template <>
struct StringMaker<ferry::kinesis::HashKey> {
  static std::string convert(const ferry::kinesis::HashKey& key) { return ferry::kinesis::ToDecimal(key); }
};
}  // namespace Catch

namespace ferry::kinesis {
namespace {

struct Known {
  std::string_view key;
  HashKey hash;  // the MD5 hex digits, split into halves
  std::string_view decimal;
};

const Known kKnown[] = {
    {"", {0xd41d8cd98f00b204, 0xe9800998ecf8427e}, "281949768489412648962353822266799178366"},
    {"a", {0x0cc175b9c0f1b6a8, 0x31c399e269772661}, "16955237001963240173058271559858726497"},
    {"abc", {0x900150983cd24fb0, 0xd6963f7d28e17f72}, "191415658344158766168031473277922803570"},
    {"partition-key-1", {0x1919e33a21e68e96, 0x1f03b16ba66b2376}, "33365116028791453877729010807000998774"},
    // Cyrillic "ключ": the key's UTF-8 bytes are hashed, as Kinesis does.
    {"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87",
     {0xc3657b66c60a3072, 0x92aae11f07b04ae7},
     "259726384039714788407059515981389908711"},
};

TEST_CASE("HashKeyOf is MD5 of the key read big-endian", "[shard_map]") {
  for (const auto& k : kKnown) {
    INFO("key '" << k.key << "'");
    CHECK(HashKeyOf(k.key) == k.hash);
    CHECK(ToDecimal(HashKeyOf(k.key)) == k.decimal);
  }
}

TEST_CASE("ParseHashKey reads what ToDecimal writes", "[shard_map]") {
  for (const auto& k : kKnown) {
    auto parsed = ParseHashKey(k.decimal);
    REQUIRE(parsed.ok());
    CHECK(*parsed == k.hash);
  }
}

TEST_CASE("ParseHashKey and ToDecimal at the ends of the range and across the 64-bit halves", "[shard_map]") {
  const struct {
    std::string_view decimal;
    HashKey key;
  } cases[] = {
      {"0", HashKey::Min()},
      {"1", {0, 1}},
      {"18446744073709551615", {0, ~std::uint64_t{0}}},                          // 2^64 - 1
      {"18446744073709551616", {1, 0}},                                          // 2^64
      {"170141183460469231731687303715884105728", {std::uint64_t{1} << 63, 0}},  // 2^127
      {"340282366920938463463374607431768211455", HashKey::Max()},               // 2^128 - 1
  };
  for (const auto& c : cases) {
    INFO(c.decimal);
    auto parsed = ParseHashKey(c.decimal);
    REQUIRE(parsed.ok());
    CHECK(*parsed == c.key);
    CHECK(ToDecimal(c.key) == c.decimal);
  }
}

TEST_CASE("ParseHashKey accepts leading zeros", "[shard_map]") {
  auto parsed = ParseHashKey("000000000000000000000000000000000000000000000000042");
  REQUIRE(parsed.ok());
  CHECK(*parsed == HashKey{0, 42});
}

TEST_CASE("ParseHashKey rejects what is not a decimal number in range", "[shard_map]") {
  const struct {
    std::string_view text;
    std::string_view message_part;
  } cases[] = {
      {"", "empty"},
      {"-1", "non-digit at byte 0"},
      {"+1", "non-digit at byte 0"},
      {" 1", "non-digit at byte 0"},
      {"1 ", "non-digit at byte 1"},
      {"12a4", "non-digit at byte 2"},
      {"1e3", "non-digit at byte 1"},
      {"0x10", "non-digit at byte 1"},
      {"1.0", "non-digit at byte 1"},
      {std::string_view("1\0"
                        "2",
                        3),
       "non-digit at byte 1"},
      {"340282366920938463463374607431768211456", "beyond 2^128-1"},  // 2^128
      {"999999999999999999999999999999999999999", "beyond 2^128-1"},  // 39 digits, too large
      {"1000000000000000000000000000000000000000", "more than 39 digits"},
  };
  for (const auto& c : cases) {
    INFO("'" << std::string(c.text) << "'");
    auto parsed = ParseHashKey(c.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(parsed.error().message(), Catch::Contains(std::string(c.message_part)));
  }
}

TEST_CASE("ParseHashKey quotes hostile input short and printable", "[shard_map]") {
  std::string text(100000, '9');
  text[5] = '\n';
  auto parsed = ParseHashKey(text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message().size() < 200);
  CHECK(parsed.error().message().find('\n') == std::string::npos);
}

TEST_CASE("HashKey orders as the numbers it holds", "[shard_map]") {
  CHECK(HashKey{0, ~std::uint64_t{0}} < HashKey{1, 0});
  CHECK(HashKey{1, 5} < HashKey{1, 6});
  CHECK(HashKey{2, 0} > HashKey{1, ~std::uint64_t{0}});
  CHECK(HashKey::Min() < HashKey::Max());
}

}  // namespace
}  // namespace ferry::kinesis
