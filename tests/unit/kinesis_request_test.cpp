// Tests of the signed Kinesis request (agent/kinesis/kinesis_request): it carries the operation, the
// body and a SigV4 signature, and for PutRecords it is byte for byte what StreamDestination sends, so
// StreamDestination can move onto it without changing a request.
#include "agent/kinesis/kinesis_request.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/kinesis/list_shards_codec.h"
#include "agent/kinesis/put_records_codec.h"
#include "agent/kinesis/stream_destination.h"

namespace ferry::kinesis {
namespace {

class FixedClock : public Clock {
 public:
  std::int64_t UnixSeconds() const override { return 1440938160; }  // 2015-08-30T12:36:00Z
};

const aws::ServiceEndpoint kEndpoint{"http://127.0.0.1:4567/", "127.0.0.1:4567", "us-east-1", "kinesis"};

const std::string* Header(const net::HttpRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers)
    if (n == name) return &v;
  return nullptr;
}

TEST_CASE("BuildKinesisRequest signs a ListShards call", "[shard_map]") {
  aws::Credentials credentials{"AKIDEXAMPLE", "secret", "session-token"};
  net::HttpRequest request = BuildKinesisRequest(kListShardsTarget, EncodeListShardsFirst("web"), kEndpoint,
                                                 credentials, FixedClock().UnixSeconds());
  CHECK(request.url == kEndpoint.url);
  CHECK(request.method == "POST");
  CHECK(request.body == R"({"StreamName":"web"})");
  REQUIRE(Header(request, "X-Amz-Target") != nullptr);
  CHECK(*Header(request, "X-Amz-Target") == "Kinesis_20131202.ListShards");
  REQUIRE(Header(request, "Content-Type") != nullptr);
  CHECK(*Header(request, "Content-Type") == "application/x-amz-json-1.1");
  REQUIRE(Header(request, "Host") != nullptr);
  CHECK(*Header(request, "Host") == "127.0.0.1:4567");
  REQUIRE(Header(request, "X-Amz-Date") != nullptr);
  CHECK(*Header(request, "X-Amz-Date") == "20150830T123600Z");
  REQUIRE(Header(request, "X-Amz-Security-Token") != nullptr);
  REQUIRE(Header(request, "Authorization") != nullptr);
  CHECK_THAT(
      *Header(request, "Authorization"),
      Catch::StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "));
}

TEST_CASE("BuildKinesisRequest makes the request StreamDestination makes", "[shard_map]") {
  aws::Credentials credentials{"AKIDEXAMPLE", "secret", ""};
  FixedClock clock;
  StreamDestination destination("web", kEndpoint, credentials, clock);
  BatchRef batch{new Batch(1, 0, nullptr, 64, nullptr)};
  std::vector<WireRecord> records(2);
  for (auto& r : records) r.batch = batch;
  records[0].data = "line one";
  records[0].partition_key = "key-1";
  records[1].data = "line two";
  records[1].partition_key = "key-2";

  net::HttpRequest expected = destination.BuildRequest(records);
  std::string body;
  EncodePutRecords("web", records, body);
  net::HttpRequest actual =
      BuildKinesisRequest(kPutRecordsTarget, std::move(body), kEndpoint, credentials, clock.UnixSeconds());
  CHECK(actual.url == expected.url);
  CHECK(actual.method == expected.method);
  CHECK(actual.body == expected.body);
  CHECK(actual.headers == expected.headers);
}

}  // namespace
}  // namespace ferry::kinesis
