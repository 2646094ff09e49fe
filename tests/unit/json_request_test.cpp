// Tests of the signed JSON 1.1 request (agent/aws/json_request): it carries the operation, the body and a
// SigV4 signature for the endpoint's region and service.
#include "agent/aws/json_request.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/core/clock.h"
#include "agent/kinesis/list_shards_codec.h"
#include "tests/unit/signed_request_test_support.h"

namespace ferry::kinesis {

using testing::FixedClock;
using testing::Header;
namespace {

const aws::ServiceEndpoint kEndpoint{"http://127.0.0.1:4567/", "127.0.0.1:4567", "us-east-1", "kinesis"};

const std::string* Header(const net::HttpRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers)
    if (n == name) return &v;
  return nullptr;
}

TEST_CASE("BuildJsonRequest signs a ListShards call", "[aws][shard_map]") {
  aws::Credentials credentials{"AKIDEXAMPLE", "secret", "session-token"};
  net::HttpRequest request = aws::BuildJsonRequest(kListShardsTarget, EncodeListShardsFirst("web"), kEndpoint,
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

}  // namespace
}  // namespace ferry::kinesis
