// Tests of the shard map (agent/kinesis/shard_map): which open shard a hash key lands on for the
// layouts Kinesis produces (even splits, after a split, after a merge), and the listings it refuses.
//
// Ranges are the ones kinesalite creates and reshards to (actions/createStream.js splits 2^128 evenly,
// the last shard taking the remainder), written out in decimal as ListShards returns them.
#include "agent/kinesis/shard_map.h"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ferry::kinesis {
namespace {

HashKey Key(std::string_view decimal) {
  auto key = ParseHashKey(decimal);
  REQUIRE(key.ok());
  return *key;
}

Shard Open(std::string id, std::string_view start, std::string_view end) {
  return Shard{std::move(id), Key(start), Key(end), true};
}
Shard Closed(std::string id, std::string_view start, std::string_view end) {
  return Shard{std::move(id), Key(start), Key(end), false};
}

constexpr std::string_view kMax = "340282366920938463463374607431768211455";  // 2^128 - 1
// Two shards: 0..2^127-1 and 2^127..2^128-1.
constexpr std::string_view kHalfEnd = "170141183460469231731687303715884105727";
constexpr std::string_view kHalfStart = "170141183460469231731687303715884105728";
// Four shards of 2^126 keys each.
constexpr std::string_view kQuarter1End = "85070591730234615865843651857942052863";
constexpr std::string_view kQuarter1Start = "85070591730234615865843651857942052864";
constexpr std::string_view kQuarter3End = "255211775190703847597530955573826158591";
constexpr std::string_view kQuarter3Start = "255211775190703847597530955573826158592";

std::string IdFor(const ShardMap& map, std::string_view key) {
  const Shard* shard = map.ShardFor(Key(key));
  REQUIRE(shard != nullptr);
  return shard->id;
}

ShardMap MustBuild(std::vector<Shard> shards, std::uint64_t generation = 1) {
  auto map = ShardMap::Build(std::move(shards), generation);
  INFO((map.ok() ? std::string() : map.error().message()));
  REQUIRE(map.ok());
  return std::move(map).value();
}

std::string BuildError(std::vector<Shard> shards) {
  auto map = ShardMap::Build(std::move(shards), 1);
  REQUIRE_FALSE(map.ok());
  CHECK(map.error().code() == ErrorCode::kProtocol);
  return map.error().message();
}

TEST_CASE("ShardMap with one shard takes every key", "[shard_map]") {
  ShardMap map = MustBuild({Open("shardId-000000000000", "0", kMax)}, 7);
  CHECK(map.generation() == 7);
  CHECK(map.open_shards().size() == 1);
  CHECK(IdFor(map, "0") == "shardId-000000000000");
  CHECK(IdFor(map, kHalfStart) == "shardId-000000000000");
  CHECK(IdFor(map, kMax) == "shardId-000000000000");
}

TEST_CASE("ShardMap with four shards split evenly", "[shard_map]") {
  // Given out of order: ListShards order is not hash key order after resharding.
  ShardMap map = MustBuild({
      Open("shardId-000000000002", kHalfStart, kQuarter3End),
      Open("shardId-000000000000", "0", kQuarter1End),
      Open("shardId-000000000003", kQuarter3Start, kMax),
      Open("shardId-000000000001", kQuarter1Start, kHalfEnd),
  });
  REQUIRE(map.open_shards().size() == 4);
  CHECK(map.open_shards()[0].id == "shardId-000000000000");
  CHECK(map.open_shards()[3].id == "shardId-000000000003");

  SECTION("boundary keys: each start, each end, and one past each end") {
    CHECK(IdFor(map, "0") == "shardId-000000000000");
    CHECK(IdFor(map, kQuarter1End) == "shardId-000000000000");
    CHECK(IdFor(map, kQuarter1Start) == "shardId-000000000001");
    CHECK(IdFor(map, kHalfEnd) == "shardId-000000000001");
    CHECK(IdFor(map, kHalfStart) == "shardId-000000000002");
    CHECK(IdFor(map, kQuarter3End) == "shardId-000000000002");
    CHECK(IdFor(map, kQuarter3Start) == "shardId-000000000003");
    CHECK(IdFor(map, kMax) == "shardId-000000000003");
  }
  SECTION("keys hashed from partition keys") {
    // MD5("a") = 0x0cc1... is in the first quarter, MD5("abc") = 0x9001... in the third (see hash_key_test).
    CHECK(map.ShardFor(HashKeyOf("a"))->id == "shardId-000000000000");
    CHECK(map.ShardFor(HashKeyOf("abc"))->id == "shardId-000000000002");
  }
}

TEST_CASE("ShardMap after a split uses the open children, not the closed parent", "[shard_map]") {
  // kinesalite's ListShards after SplitShard of shard 0 of 2 at 2^126: the parent stays listed, closed.
  ShardMap map = MustBuild({
      Closed("shardId-000000000000", "0", kHalfEnd),
      Open("shardId-000000000001", kHalfStart, kMax),
      Open("shardId-000000000002", "0", kQuarter1End),
      Open("shardId-000000000003", kQuarter1Start, kHalfEnd),
  });
  REQUIRE(map.open_shards().size() == 3);
  CHECK(IdFor(map, "0") == "shardId-000000000002");
  CHECK(IdFor(map, kQuarter1End) == "shardId-000000000002");
  CHECK(IdFor(map, kQuarter1Start) == "shardId-000000000003");
  CHECK(IdFor(map, kHalfEnd) == "shardId-000000000003");
  CHECK(IdFor(map, kHalfStart) == "shardId-000000000001");
}

TEST_CASE("ShardMap after a merge uses the open merged shard", "[shard_map]") {
  // Then MergeShards of 3 and 1: both parents closed, shard 4 open over their ranges.
  ShardMap map = MustBuild({
      Closed("shardId-000000000000", "0", kHalfEnd),
      Closed("shardId-000000000001", kHalfStart, kMax),
      Open("shardId-000000000002", "0", kQuarter1End),
      Closed("shardId-000000000003", kQuarter1Start, kHalfEnd),
      Open("shardId-000000000004", kQuarter1Start, kMax),
  });
  REQUIRE(map.open_shards().size() == 2);
  CHECK(IdFor(map, kQuarter1End) == "shardId-000000000002");
  CHECK(IdFor(map, kQuarter1Start) == "shardId-000000000004");
  CHECK(IdFor(map, kHalfStart) == "shardId-000000000004");
  CHECK(IdFor(map, kMax) == "shardId-000000000004");
}

TEST_CASE("ShardMap rejects a gap and says where it is", "[shard_map]") {
  SECTION("between two shards") {
    std::string message = BuildError({
        Open("shardId-a", "0", "99"),
        Open("shardId-b", "200", kMax),
    });
    CHECK_THAT(message, Catch::Contains("hash keys 100..199 uncovered"));
    CHECK_THAT(message, Catch::Contains("between shardId-a (0..99) and shardId-b (200.."));
  }
  SECTION("below the first shard") {
    CHECK_THAT(BuildError({Open("shardId-a", "1", kMax)}), Catch::Contains("hash keys 0..0 uncovered"));
  }
  SECTION("above the last shard") {
    CHECK_THAT(BuildError({Open("shardId-a", "0", kHalfEnd)}),
               Catch::Contains(fmt::format("hash keys {}..{} uncovered", kHalfStart, kMax)));
  }
  SECTION("left by a closed parent whose children are not listed yet") {
    CHECK_THAT(BuildError({Closed("shardId-p", "0", kHalfEnd), Open("shardId-1", kHalfStart, kMax)}),
               Catch::Contains(fmt::format("hash keys 0..{} uncovered", kHalfEnd)));
  }
}

TEST_CASE("ShardMap rejects overlapping open shards", "[shard_map]") {
  SECTION("a parent still open beside its children, as a listing paged across a split can show") {
    CHECK_THAT(BuildError({
                   Open("shardId-p", "0", kHalfEnd),
                   Open("shardId-1", kHalfStart, kMax),
                   Open("shardId-c1", "0", kQuarter1End),
                   Open("shardId-c2", kQuarter1Start, kHalfEnd),
               }),
               Catch::Contains("overlap"));
  }
  SECTION("by one key") {
    CHECK_THAT(BuildError({Open("shardId-a", "0", "100"), Open("shardId-b", "100", kMax)}),
               Catch::Contains("shardId-a (0..100) and shardId-b (100.."));
  }
  SECTION("a shard after one that already reaches 2^128-1") {
    CHECK_THAT(BuildError({Open("shardId-a", "0", kMax), Open("shardId-b", kMax, kMax)}),
               Catch::Contains("overlap"));
  }
}

TEST_CASE("ShardMap rejects no open shards and reversed ranges", "[shard_map]") {
  CHECK_THAT(BuildError({}), Catch::Contains("no open shards"));
  CHECK_THAT(BuildError({Closed("shardId-a", "0", kMax)}), Catch::Contains("no open shards"));
  CHECK_THAT(BuildError({Open("shardId-a", kMax, "0")}),
             Catch::Contains("shardId-a") && Catch::Contains("ends before"));
}

TEST_CASE("ShardMap ignores a closed shard's reversed range", "[shard_map]") {
  ShardMap map = MustBuild({Closed("shardId-x", kMax, "0"), Open("shardId-a", "0", kMax)});
  CHECK(map.open_shards().size() == 1);
}

TEST_CASE("An empty ShardMap finds no shard", "[shard_map]") {
  ShardMap map;
  CHECK(map.generation() == 0);
  CHECK(map.ShardFor(HashKey::Min()) == nullptr);
  CHECK(map.ShardFor(HashKey::Max()) == nullptr);
}

}  // namespace
}  // namespace ferry::kinesis
