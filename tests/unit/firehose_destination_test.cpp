// Tests of FirehoseDestination (agent/firehose/firehose_destination): the request it builds (URL, body,
// target, content type, a SigV4 signature for "firehose" over exactly those headers and body), and how it
// reads answers: per-record verdicts from a 200, whole-request failures from anything else.
#include "agent/firehose/firehose_destination.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "agent/firehose/put_record_batch_codec.h"
#include "tests/unit/signed_request_test_support.h"

namespace ferry::firehose {

using testing::FixedClock;
using testing::Header;
namespace {

const aws::ServiceEndpoint kEndpoint{"http://127.0.0.1:4573/", "127.0.0.1:4573", "eu-west-1", "firehose"};

struct Fixture {
  FixedClock clock;
  BatchRef batch{new Batch(1, 0, nullptr, 64, nullptr)};
  std::vector<WireRecord> records;

  void Add(std::string_view data) {
    WireRecord r;
    r.data = data;
    r.batch = batch;
    records.push_back(r);
  }
};

TEST_CASE("FirehoseDestination builds a signed PutRecordBatch request", "[firehose]") {
  Fixture f;
  f.Add("line one\nline two\n");
  f.Add("x\n");
  aws::Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"};
  aws::FixedCredentials source(credentials);
  FirehoseDestination destination("aws-waf-logs-edge", kEndpoint, source, f.clock);
  CHECK(destination.description() ==
        "Firehose delivery stream 'aws-waf-logs-edge' at http://127.0.0.1:4573/");

  net::HttpRequest request = destination.BuildRequest(f.records).value();
  CHECK(request.url == "http://127.0.0.1:4573/");
  CHECK(request.method == "POST");
  CHECK(request.body ==
        R"({"DeliveryStreamName":"aws-waf-logs-edge","Records":[{"Data":"bGluZSBvbmUKbGluZSB0d28K"},)"
        R"({"Data":"eAo="}]})");
  REQUIRE(Header(request, "Host") != nullptr);
  CHECK(*Header(request, "Host") == "127.0.0.1:4573");
  REQUIRE(Header(request, "Content-Type") != nullptr);
  CHECK(*Header(request, "Content-Type") == "application/x-amz-json-1.1");
  REQUIRE(Header(request, "X-Amz-Target") != nullptr);
  CHECK(*Header(request, "X-Amz-Target") == "Firehose_20150804.PutRecordBatch");
  REQUIRE(Header(request, "X-Amz-Date") != nullptr);
  CHECK(*Header(request, "X-Amz-Date") == "20150830T123600Z");
  REQUIRE(Header(request, "X-Amz-Security-Token") != nullptr);
  CHECK(*Header(request, "X-Amz-Security-Token") == "session-token");
  REQUIRE(Header(request, "Authorization") != nullptr);
  const std::string& authorization = *Header(request, "Authorization");
  CHECK_THAT(authorization, Catch::StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/"
                                              "firehose/aws4_request, SignedHeaders=content-type;host;"
                                              "x-amz-date;x-amz-security-token;x-amz-target, Signature="));

  // The signature is over the request as sent: signing its unsigned part again gives the same one.
  std::vector<std::pair<std::string, std::string>> unsigned_headers(request.headers.begin(),
                                                                    request.headers.begin() + 3);
  aws::Signed expected =
      aws::SignRequest(aws::RequestToSign{"POST", "/", "", unsigned_headers, request.body}, credentials,
                       aws::SigningParams{"eu-west-1", "firehose", 1440938160});
  CHECK(authorization == expected.authorization);
}

TEST_CASE("FirehoseDestination signs for firehose whatever the endpoint names", "[firehose]") {
  Fixture f;
  f.Add("x\n");
  aws::ServiceEndpoint vpc{"https://vpce-0123.firehose.eu-west-1.vpce.amazonaws.com/",
                           "vpce-0123.firehose.eu-west-1.vpce.amazonaws.com", "eu-west-1", "kinesis"};
  aws::FixedCredentials keys({"AKID", "secret", ""});
  FirehoseDestination destination("s", vpc, keys, f.clock);
  net::HttpRequest request = destination.BuildRequest(f.records).value();
  CHECK(request.url == vpc.url);
  CHECK(Header(request, "X-Amz-Security-Token") == nullptr);  // long-term keys: no token
  REQUIRE(Header(request, "Authorization") != nullptr);
  CHECK_THAT(*Header(request, "Authorization"),
             Catch::StartsWith("AWS4-HMAC-SHA256 Credential=AKID/20150830/eu-west-1/firehose/aws4_request, "
                               "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "));
}

net::HttpResponse Response(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

TEST_CASE("FirehoseDestination reads per-record verdicts", "[firehose]") {
  Fixture f;
  aws::FixedCredentials keys({"AKID", "secret", ""});
  FirehoseDestination destination("s", kEndpoint, keys, f.clock);
  RequestOutcome outcome = destination.ReadResponse(
      Response(200, R"({"FailedPutCount":2,"Encrypted":false,"RequestResponses":[{"RecordId":"a"},)"
                    R"({"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."},)"
                    R"({"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."}]})"),
      3);
  CHECK_FALSE(outcome.failed);
  CHECK(outcome.record_errors ==
        std::vector<std::string>{"", "ServiceUnavailableException", "InternalFailure"});
  CHECK(outcome.first_record_message == "Slow down.");

  RequestOutcome stored = destination.ReadResponse(
      Response(200, R"({"FailedPutCount":0,"RequestResponses":[{"RecordId":"a"},{"RecordId":"b"}]})"), 2);
  CHECK_FALSE(stored.failed);
  CHECK(stored.record_errors == std::vector<std::string>{"", ""});
  CHECK(stored.first_record_message.empty());
}

TEST_CASE("FirehoseDestination fails whole requests that are not answered with verdicts", "[firehose]") {
  Fixture f;
  aws::FixedCredentials keys({"AKID", "secret", ""});
  FirehoseDestination destination("s", kEndpoint, keys, f.clock);

  net::HttpResponse reset;
  reset.transport_error = "127.0.0.1:4573: Connection reset by peer";
  RequestOutcome transport = destination.ReadResponse(reset, 2);
  CHECK(transport.failed);
  CHECK(transport.error_code == "transport");
  CHECK(transport.error_message == "127.0.0.1:4573: Connection reset by peer");

  // Firehose throttles a whole request with 503 ServiceUnavailableException.
  RequestOutcome throttled = destination.ReadResponse(
      Response(503, R"({"__type":"ServiceUnavailableException","message":"Slow down."})"), 2);
  CHECK(throttled.failed);
  CHECK(throttled.error_code == "ServiceUnavailableException");
  CHECK(throttled.error_message == "HTTP 503: Slow down.");

  RequestOutcome missing = destination.ReadResponse(
      Response(400, R"({"__type":"ResourceNotFoundException","message":"Firehose s not found."})"), 2);
  CHECK(missing.failed);
  CHECK(missing.error_code == "ResourceNotFoundException");

  RequestOutcome gateway = destination.ReadResponse(Response(502, "<html>Bad Gateway</html>"), 2);
  CHECK(gateway.failed);
  CHECK(gateway.error_code == "HTTP 502");

  RequestOutcome short_list = destination.ReadResponse(
      Response(200, R"({"FailedPutCount":0,"RequestResponses":[{"RecordId":"a"}]})"), 2);
  CHECK(short_list.failed);
  CHECK(short_list.error_code == "InvalidResponse");
  CHECK(short_list.error_message == "PutRecordBatch response has 1 results for 2 records");
  CHECK(short_list.record_errors.empty());
}

}  // namespace
}  // namespace ferry::firehose
