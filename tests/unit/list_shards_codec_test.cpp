// Tests of the ListShards codec (agent/kinesis/list_shards_codec): the request bodies of a paginated
// listing, real listings read back, and every malformed page refused with an error that names the shard
// and field.
#include "agent/kinesis/list_shards_codec.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

namespace ferry::kinesis {
namespace {

// kinesalite 3.3.3's answer to ListShards {"StreamName":"s"} after CreateStream with 2 shards and
// SplitShard of shardId-000000000000 at 2^126 (captured from a running kinesalite).
constexpr std::string_view kAfterSplit =
    R"({"Shards":[)"
    R"({"HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"170141183460469231731687303715884105727"},)"
    R"("SequenceNumberRange":{"StartingSequenceNumber":"49680578722780145670287975530106836798209594904304156674",)"
    R"("EndingSequenceNumber":"49680578722791296042887240841676395731526304593321394178"},)"
    R"("ShardId":"shardId-000000000000"},)"
    R"({"HashKeyRange":{"StartingHashKey":"170141183460469231731687303715884105728",)"
    R"("EndingHashKey":"340282366920938463463374607431768211455"},)"
    R"("SequenceNumberRange":{"StartingSequenceNumber":"49680578722802446415486506153248372516482243265810137106"},)"
    R"("ShardId":"shardId-000000000001"},)"
    R"({"ParentShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0",)"
    R"("EndingHashKey":"85070591730234615865843651857942052863"},)"
    R"("SequenceNumberRange":{"StartingSequenceNumber":"49680578723895182930214506687183622711842013185761607714"},)"
    R"("ShardId":"shardId-000000000002"},)"
    R"({"ParentShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"85070591730234615865843651857942052864",)"
    R"("EndingHashKey":"170141183460469231731687303715884105727"},)"
    R"("SequenceNumberRange":{"StartingSequenceNumber":"49680578723917483675413037310325158430114661547267588146"},)"
    R"("ShardId":"shardId-000000000003"}]})";

std::string Message(std::string_view body) {
  auto page = DecodeListShardsResponse(body);
  REQUIRE_FALSE(page.ok());
  CHECK(page.error().code() == ErrorCode::kProtocol);
  return page.error().message();
}

TEST_CASE("EncodeListShards asks by StreamName first, then by NextToken alone", "[shard_map]") {
  CHECK(EncodeListShardsFirst("web-logs") == R"({"StreamName":"web-logs"})");
  CHECK(EncodeListShardsNext("AAAA/+==") == R"({"NextToken":"AAAA/+=="})");
  // Escaped as JSON, whatever the caller passes.
  CHECK(EncodeListShardsNext("a\"b\\c\n") == R"({"NextToken":"a\"b\\c\n"})");
}

TEST_CASE("DecodeListShardsResponse reads kinesalite's listing after a split", "[shard_map]") {
  auto page = DecodeListShardsResponse(kAfterSplit);
  REQUIRE(page.ok());
  CHECK(page->next_token.empty());
  REQUIRE(page->shards.size() == 4);
  CHECK(page->shards[0].id == "shardId-000000000000");
  CHECK_FALSE(page->shards[0].open);
  CHECK(page->shards[0].start == HashKey::Min());
  CHECK(ToDecimal(page->shards[0].end) == "170141183460469231731687303715884105727");
  CHECK(page->shards[1].open);
  CHECK(page->shards[1].end == HashKey::Max());
  CHECK(page->shards[3].id == "shardId-000000000003");
  CHECK(page->shards[3].open);
  CHECK(ToDecimal(page->shards[3].start) == "85070591730234615865843651857942052864");

  auto map = ShardMap::Build(std::move(page->shards), 1);
  REQUIRE(map.ok());
  CHECK(map->open_shards().size() == 3);
}

TEST_CASE("DecodeListShardsResponse reads NextToken and tolerates what it does not use", "[shard_map]") {
  auto page = DecodeListShardsResponse(
      R"({"Shards":[{"ShardId":"shardId-1","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"5"},)"
      R"("SequenceNumberRange":{"StartingSequenceNumber":"1","EndingSequenceNumber":null},"Extra":[1,2]}],)"
      R"("NextToken":"page-2","Unknown":{"a":1}})");
  REQUIRE(page.ok());
  CHECK(page->next_token == "page-2");
  REQUIRE(page->shards.size() == 1);
  CHECK(page->shards[0].open);  // a null EndingSequenceNumber is no end
  CHECK(page->shards[0].end == HashKey{0, 5});
}

TEST_CASE("DecodeListShardsResponse reads an empty last page", "[shard_map]") {
  for (std::string_view body : {R"({"Shards":[]})", R"({"Shards":[],"NextToken":null})"}) {
    auto page = DecodeListShardsResponse(body);
    REQUIRE(page.ok());
    CHECK(page->shards.empty());
    CHECK(page->next_token.empty());
  }
}

TEST_CASE("DecodeListShardsResponse refuses malformed pages", "[shard_map]") {
  CHECK_THAT(Message(""), Catch::Contains("not JSON"));
  CHECK_THAT(Message(R"({"Shards":[)"), Catch::Contains("not JSON"));
  CHECK_THAT(Message("[]"), Catch::Contains("not a JSON object"));
  CHECK_THAT(Message("{}"), Catch::Contains("no Shards list"));
  CHECK_THAT(Message(R"({"Shards":{}})"), Catch::Contains("no Shards list"));
  CHECK_THAT(Message(R"({"Shards":[7]})"), Catch::Contains("shard 0: not a JSON object"));
  CHECK_THAT(Message(R"({"Shards":[{}]})"), Catch::Contains("shard 0: ShardId"));
  CHECK_THAT(Message(R"({"Shards":[{"ShardId":""}]})"), Catch::Contains("shard 0: ShardId"));
  CHECK_THAT(Message(R"({"Shards":[{"ShardId":3}]})"), Catch::Contains("shard 0: ShardId"));
  CHECK_THAT(Message(R"({"Shards":[{"ShardId":"s-1"}]})"),
             Catch::Contains("shard 0 (s-1): HashKeyRange is missing"));
  CHECK_THAT(Message(R"({"Shards":[{"ShardId":"s-1","HashKeyRange":"0-9"}]})"),
             Catch::Contains("HashKeyRange is missing"));
  CHECK_THAT(Message(R"({"Shards":[{"ShardId":"s-1","HashKeyRange":{"EndingHashKey":"9"}}]})"),
             Catch::Contains("HashKeyRange.StartingHashKey is missing or not a string"));
  CHECK_THAT(
      Message(R"({"Shards":[{"ShardId":"s-1","HashKeyRange":{"StartingHashKey":0,"EndingHashKey":"9"}}]})"),
      Catch::Contains("HashKeyRange.StartingHashKey is missing or not a string"));
  CHECK_THAT(
      Message(
          R"({"Shards":[{"ShardId":"s-1","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"-9"}}]})"),
      Catch::Contains("shard 0 (s-1): HashKeyRange.EndingHashKey: hash key '-9' has a non-digit"));
  CHECK_THAT(Message(R"({"Shards":[{"ShardId":"s-1","HashKeyRange":{"StartingHashKey":"0",)"
                     R"("EndingHashKey":"340282366920938463463374607431768211456"}}]})"),
             Catch::Contains("beyond 2^128-1"));
  CHECK_THAT(
      Message(R"({"Shards":[{"ShardId":"s-1","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"9"},)"
              R"("SequenceNumberRange":[]}]})"),
      Catch::Contains("SequenceNumberRange is not a JSON object"));
  CHECK_THAT(
      Message(R"({"Shards":[{"ShardId":"s-1","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"9"},)"
              R"("SequenceNumberRange":{"EndingSequenceNumber":5}}]})"),
      Catch::Contains("EndingSequenceNumber is not a string"));
  CHECK_THAT(Message(R"({"Shards":[],"NextToken":5})"), Catch::Contains("NextToken is not a string"));
}

TEST_CASE("DecodeListShardsResponse names later shards by position and quotes ids safely", "[shard_map]") {
  std::string body =
      R"({"Shards":[{"ShardId":"ok","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"1"}},)"
      R"({"ShardId":")" +
      std::string("xxx\\u0001") + std::string(996, 'x') + R"("}]})";
  std::string message = Message(body);
  CHECK_THAT(message, Catch::Contains("shard 1 (xxx?xxx"));
  CHECK(message.size() < 300);
}

}  // namespace
}  // namespace ferry::kinesis
