// Tests of the shard map loader's decisions (agent/kinesis/shard_map_loader): ShardListing fed the
// answers a Kinesis peer gives (pages, throttling, missing streams, resharding between pages, broken
// bodies), and the backoff between retries. The loader around them only sends and waits; it is tested
// against a real peer once the daemon uses it.
#include "agent/kinesis/shard_map_loader.h"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

namespace ferry::kinesis {
namespace {

constexpr std::string_view kMax = "340282366920938463463374607431768211455";  // 2^128 - 1
constexpr std::string_view kHalfEnd = "170141183460469231731687303715884105727";
constexpr std::string_view kHalfStart = "170141183460469231731687303715884105728";

net::HttpResponse Answer(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

net::HttpResponse TransportError(std::string error) {
  net::HttpResponse response;
  response.transport_error = std::move(error);
  return response;
}

std::string ShardJson(std::string_view id, std::string_view start, std::string_view end, bool open = true) {
  return fmt::format(R"({{"ShardId":"{}","HashKeyRange":{{"StartingHashKey":"{}","EndingHashKey":"{}"}},)"
                     R"("SequenceNumberRange":{{"StartingSequenceNumber":"1"{}}}}})",
                     id, start, end, open ? "" : R"(,"EndingSequenceNumber":"2")");
}

net::HttpResponse Page(std::string shards, std::string_view next_token = {}) {
  std::string body = "{\"Shards\":[" + shards + "]";
  if (!next_token.empty()) body += fmt::format(R"(,"NextToken":"{}")", next_token);
  return Answer(200, body + "}");
}

net::HttpResponse ServiceError(int status, std::string_view type, std::string_view message = "details") {
  return Answer(status, fmt::format(R"({{"__type":"com.amazonaws.kinesis.v20131202#{}","message":"{}"}})",
                                    type, message));
}

const std::string kWhole = ShardJson("shardId-0", "0", kMax);
const std::string kLow = ShardJson("shardId-1", "0", kHalfEnd);
const std::string kHigh = ShardJson("shardId-2", kHalfStart, kMax);

ShardMapLoaderOptions Options(std::uint32_t max_retries = 4, std::size_t max_pages = 100) {
  ShardMapLoaderOptions options;
  options.max_retries = max_retries;
  options.max_pages = max_pages;
  return options;
}

ShardListing Listing(const ShardMapLoaderOptions& options = Options()) {
  return ShardListing("web", "Kinesis stream 'web' at http://127.0.0.1:4567/", 9, options);
}

std::string LastError(const ShardListing& listing) {
  REQUIRE(listing.last_error().has_value());
  return listing.last_error()->message();
}

TEST_CASE("ShardListing: one page is the whole map", "[shard_map]") {
  ShardListing listing = Listing();
  CHECK(listing.RequestBody() == R"({"StreamName":"web"})");
  REQUIRE(listing.OnResponse(Page(kLow + "," + kHigh)) == ShardListing::Next::kDone);
  ShardMap map = listing.TakeMap();
  CHECK(map.generation() == 9);
  CHECK(map.open_shards().size() == 2);
  CHECK(listing.retries() == 0);
}

TEST_CASE("ShardListing follows NextToken and asks by token alone", "[shard_map]") {
  ShardListing listing = Listing();
  REQUIRE(listing.OnResponse(Page(ShardJson("shardId-p", "0", kMax, false), "token-1")) ==
          ShardListing::Next::kSend);
  CHECK(listing.RequestBody() == R"({"NextToken":"token-1"})");
  REQUIRE(listing.OnResponse(Page(kLow, "token-2")) == ShardListing::Next::kSend);
  CHECK(listing.RequestBody() == R"({"NextToken":"token-2"})");
  REQUIRE(listing.OnResponse(Page(kHigh)) == ShardListing::Next::kDone);
  ShardMap map = listing.TakeMap();
  REQUIRE(map.open_shards().size() == 2);
  CHECK(map.open_shards()[0].id == "shardId-1");
  CHECK(map.open_shards()[1].id == "shardId-2");
}

TEST_CASE("ShardListing retries throttling and transient failures, the same call again", "[shard_map]") {
  ShardListing listing = Listing();
  REQUIRE(listing.OnResponse(Page(kLow, "token-1")) == ShardListing::Next::kSend);

  CHECK(listing.OnResponse(ServiceError(400, "LimitExceededException", "Rate exceeded")) ==
        ShardListing::Next::kBackoff);
  CHECK(listing.retries() == 1);
  CHECK_THAT(LastError(listing), Catch::EndsWith("HTTP 400 LimitExceededException: Rate exceeded"));
  CHECK_THAT(LastError(listing), Catch::Contains("Kinesis stream 'web' at http://127.0.0.1:4567/"));
  CHECK(listing.RequestBody() == R"({"NextToken":"token-1"})");

  CHECK(listing.OnResponse(TransportError("127.0.0.1:4567: Connection refused")) ==
        ShardListing::Next::kBackoff);
  CHECK(listing.last_error()->code() == ErrorCode::kNetwork);
  CHECK(listing.OnResponse(Answer(503, "")) == ShardListing::Next::kBackoff);
  CHECK_THAT(LastError(listing), Catch::EndsWith("http://127.0.0.1:4567/: HTTP 503"));
  CHECK(listing.OnResponse(ServiceError(400, "ResourceInUseException")) == ShardListing::Next::kBackoff);
  CHECK(listing.retries() == 4);
  CHECK(listing.RequestBody() == R"({"NextToken":"token-1"})");

  REQUIRE(listing.OnResponse(Page(kHigh)) == ShardListing::Next::kDone);
  CHECK(listing.TakeMap().open_shards().size() == 2);
}

TEST_CASE("ShardListing gives up after max_retries with the last error", "[shard_map]") {
  ShardListing listing = Listing(Options(2));
  CHECK(listing.OnResponse(ServiceError(400, "LimitExceededException")) == ShardListing::Next::kBackoff);
  CHECK(listing.OnResponse(ServiceError(400, "LimitExceededException")) == ShardListing::Next::kBackoff);
  CHECK(listing.OnResponse(ServiceError(400, "LimitExceededException")) == ShardListing::Next::kFailed);
  CHECK(listing.last_error()->code() == ErrorCode::kRemote);
  CHECK_THAT(LastError(listing),
             Catch::Contains("LimitExceededException") && Catch::Contains("after 2 retries"));
}

TEST_CASE("ShardListing fails at once on a missing stream and other service errors", "[shard_map]") {
  SECTION("ResourceNotFoundException") {
    ShardListing listing = Listing();
    CHECK(listing.OnResponse(ServiceError(400, "ResourceNotFoundException", "Stream web not found.")) ==
          ShardListing::Next::kFailed);
    CHECK(listing.last_error()->code() == ErrorCode::kNotFound);
    CHECK_THAT(LastError(listing), Catch::Contains("Stream web not found."));
  }
  SECTION("AccessDeniedException") {
    ShardListing listing = Listing();
    CHECK(listing.OnResponse(ServiceError(400, "AccessDeniedException")) == ShardListing::Next::kFailed);
    // Only an operator can fix it: the output lists again at the slow pace, not its backoff.
    CHECK(listing.last_error()->code() == ErrorCode::kRefused);
  }
  SECTION("an HTTP error without a JSON body") {
    ShardListing listing = Listing();
    CHECK(listing.OnResponse(Answer(403, "<html>no</html>")) == ShardListing::Next::kFailed);
    CHECK_THAT(LastError(listing), Catch::Contains("HTTP 403"));
    CHECK(listing.last_error()->code() == ErrorCode::kRefused);
  }
}

TEST_CASE("ShardListing corrects a skewed clock from the Date of a refused signature and retries",
          "[shard_map]") {
  std::optional<std::int64_t> corrected;
  ShardMapLoaderOptions options = Options();
  options.correct_clock = [&corrected](std::int64_t t) { corrected = t; };
  ShardListing listing = Listing(options);
  net::HttpResponse refused = ServiceError(
      400, "InvalidSignatureException",
      "Signature expired: 20150830T123600Z is now earlier than 20150830T133100Z (20150830T133600Z - 5 min.)");
  refused.headers.emplace_back("date", "Sun, 30 Aug 2015 13:36:00 GMT");
  CHECK(listing.OnResponse(refused) == ShardListing::Next::kBackoff);
  CHECK(corrected == 1440941760);
  CHECK(listing.OnResponse(Page(kLow + "," + kHigh)) == ShardListing::Next::kDone);

  // Without a Date nothing can be corrected: a refused signature is a failure like any other.
  ShardListing without_date = Listing(options);
  corrected.reset();
  CHECK(without_date.OnResponse(ServiceError(400, "InvalidSignatureException", "Signature expired: x")) ==
        ShardListing::Next::kFailed);
  CHECK_FALSE(corrected);
}

TEST_CASE("ShardListing fails at once when the HTTP client is closing", "[shard_map]") {
  for (std::string error : {"aborted", "client closed"}) {
    ShardListing listing = Listing();
    CHECK(listing.OnResponse(TransportError(error)) == ShardListing::Next::kFailed);
    CHECK(listing.retries() == 0);
  }
}

TEST_CASE("ShardListing fails on an unreadable page", "[shard_map]") {
  ShardListing listing = Listing();
  CHECK(listing.OnResponse(Answer(200, R"({"Shards":[{"ShardId":"x"}]})")) == ShardListing::Next::kFailed);
  CHECK(listing.last_error()->code() == ErrorCode::kProtocol);
  CHECK_THAT(LastError(listing), Catch::Contains("HashKeyRange") && Catch::Contains("Kinesis stream 'web'"));
}

TEST_CASE("ShardListing starts over when the pages do not fit together", "[shard_map]") {
  // Page 1 listed before a split of shardId-0, page 2 after it: shardId-0 still open next to its children.
  ShardListing listing = Listing();
  REQUIRE(listing.OnResponse(Page(kWhole, "token-1")) == ShardListing::Next::kSend);
  REQUIRE(listing.OnResponse(Page(kLow + "," + kHigh)) == ShardListing::Next::kBackoff);
  CHECK_THAT(LastError(listing), Catch::Contains("overlap"));
  CHECK(listing.RequestBody() == R"({"StreamName":"web"})");
  // The fresh listing does not carry the stale page's shards.
  REQUIRE(listing.OnResponse(Page(ShardJson("shardId-0", "0", kMax, false), "token-3")) ==
          ShardListing::Next::kSend);
  REQUIRE(listing.OnResponse(Page(kLow + "," + kHigh)) == ShardListing::Next::kDone);
  CHECK(listing.TakeMap().open_shards().size() == 2);
}

TEST_CASE("ShardListing starts over when the NextToken expired", "[shard_map]") {
  ShardListing listing = Listing();
  REQUIRE(listing.OnResponse(Page(kLow, "token-1")) == ShardListing::Next::kSend);
  CHECK(listing.OnResponse(ServiceError(400, "ExpiredNextTokenException")) == ShardListing::Next::kBackoff);
  CHECK(listing.RequestBody() == R"({"StreamName":"web"})");
  REQUIRE(listing.OnResponse(Page(kLow, "token-2")) == ShardListing::Next::kSend);
  REQUIRE(listing.OnResponse(Page(kHigh)) == ShardListing::Next::kDone);
  CHECK(listing.TakeMap().open_shards().size() == 2);
}

TEST_CASE("ShardListing retries a listing with a gap, then gives up", "[shard_map]") {
  ShardListing listing = Listing(Options(1));
  CHECK(listing.OnResponse(Page(kLow)) == ShardListing::Next::kBackoff);
  CHECK(listing.OnResponse(Page(kLow)) == ShardListing::Next::kFailed);
  CHECK(listing.last_error()->code() == ErrorCode::kProtocol);
  CHECK_THAT(LastError(listing), Catch::Contains("uncovered") && Catch::Contains("after 1 retries"));
}

TEST_CASE("ShardListing stops a peer that pages forever", "[shard_map]") {
  SECTION("more pages than max_pages") {
    ShardListing listing = Listing(Options(4, 3));
    CHECK(listing.OnResponse(Page("", "t1")) == ShardListing::Next::kSend);
    CHECK(listing.OnResponse(Page("", "t2")) == ShardListing::Next::kSend);
    CHECK(listing.OnResponse(Page("", "t3")) == ShardListing::Next::kFailed);
    CHECK_THAT(LastError(listing), Catch::Contains("after 3 pages"));
  }
  SECTION("the same NextToken again") {
    ShardListing listing = Listing();
    CHECK(listing.OnResponse(Page("", "t1")) == ShardListing::Next::kSend);
    CHECK(listing.OnResponse(Page("", "t1")) == ShardListing::Next::kFailed);
    CHECK_THAT(LastError(listing), Catch::Contains("repeats the NextToken"));
  }
}

TEST_CASE("ListShardsBackoff waits in the upper half of a doubling ceiling", "[shard_map]") {
  ShardMapLoaderOptions options;
  options.backoff_base = Duration(200);
  options.backoff_cap = Duration(5000);
  std::minstd_rand random(42);
  const struct {
    std::uint32_t retry;
    Duration::rep low, high;
  } cases[] = {{0, 100, 200},   {1, 200, 400},   {2, 400, 800},
               {4, 1600, 3200}, {5, 2500, 5000}, {40, 2500, 5000}};
  for (const auto& c : cases) {
    INFO("retry " << c.retry);
    for (int i = 0; i < 200; ++i) {
      Duration d = ListShardsBackoff(c.retry, options, random);
      CHECK(d.count() >= c.low);
      CHECK(d.count() <= c.high);
    }
  }
}

TEST_CASE("RelistDelay paces listings after failed loads: from 1 s, doubling, up to the refresh or 30 s",
          "[shard_map]") {
  std::minstd_rand random(7);
  const struct {
    std::uint32_t failed;
    Duration refresh;
    Duration::rep low, high;
  } cases[] = {
      {1, Duration(60000), 500, 1000},      {2, Duration(60000), 1000, 2000},
      {3, Duration(60000), 2000, 4000},     {6, Duration(60000), 15000, 30000},
      {100, Duration(60000), 15000, 30000},  // never beyond 30 s, however long the outage
      {6, Duration(5000), 2500, 5000},       // nor beyond the refresh interval
      {3, Duration(200), 500, 1000},         // a refresh below 1 s: 1 s
      {0, Duration(60000), 500, 1000},
  };
  for (const auto& c : cases) {
    INFO("failed loads " << c.failed << ", refresh " << c.refresh.count());
    for (int i = 0; i < 200; ++i) {
      Duration d = RelistDelay(c.failed, c.refresh, random);
      CHECK(d.count() >= c.low);
      CHECK(d.count() <= c.high);
    }
  }
}

}  // namespace
}  // namespace ferry::kinesis
