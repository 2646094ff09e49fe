// Tests of the PutRecordBatch codec (agent/firehose/put_record_batch_codec): the request body is the
// documented JSON with base64 data that decodes to the exact record bytes; responses give one verdict per
// request record, and bodies of any other shape are errors, never crashes.
#include "agent/firehose/put_record_batch_codec.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::firehose {
namespace {

// Base64 back to bytes with OpenSSL; EVP_DecodeBlock counts padding as zero bytes, so trim them.
std::string DecodeBase64(std::string_view text) {
  REQUIRE(text.size() % 4 == 0);
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  REQUIRE(n == static_cast<int>(out.size()));
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  out.resize(out.size() - pad);
  return out;
}

// Records over caller-owned strings; one shared batch keeps the WireRecord contract.
struct Records {
  BatchRef batch{new Batch(1, 0, nullptr, 64, nullptr)};
  std::vector<WireRecord> list;
  void Add(std::string_view data, std::string_view partition_key = {}) {
    WireRecord r;
    r.data = data;
    r.partition_key = partition_key;
    r.batch = batch;
    list.push_back(r);
  }
};

std::string Encode(std::string_view stream, const Records& records) {
  std::string out;
  EncodePutRecordBatch(stream, records.list, out);
  return out;
}

std::string StringOf(const rapidjson::Value& v) {
  REQUIRE(v.IsString());
  return std::string(v.GetString(), v.GetStringLength());
}

// ---- Request

TEST_CASE("EncodePutRecordBatch writes the documented envelope", "[firehose]") {
  Records records;
  records.Add("foo\n");
  records.Add("f");
  records.Add("");
  CHECK(Encode("aws-waf-logs-edge", records) ==
        R"({"DeliveryStreamName":"aws-waf-logs-edge","Records":[{"Data":"Zm9vCg=="},{"Data":"Zg=="},)"
        R"({"Data":""}]})");
}

TEST_CASE("EncodePutRecordBatch with no records writes an empty list", "[firehose]") {
  Records records;
  CHECK(Encode("s", records) == R"({"DeliveryStreamName":"s","Records":[]})");
}

TEST_CASE("EncodePutRecordBatch appends to what the buffer holds", "[firehose]") {
  Records records;
  records.Add("fo");
  std::string out = "PREFIX";
  EncodePutRecordBatch("s", records.list, out);
  CHECK(out == R"(PREFIX{"DeliveryStreamName":"s","Records":[{"Data":"Zm8="}]})");
}

TEST_CASE("EncodePutRecordBatch sends no partition key", "[firehose]") {
  Records records;
  records.Add("x", "a-partition-key");
  CHECK(Encode("s", records) == R"({"DeliveryStreamName":"s","Records":[{"Data":"eA=="}]})");
}

TEST_CASE("EncodePutRecordBatch data decodes to exactly the record bytes", "[firehose]") {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::string large;
  for (std::size_t i = 0; i < 1000 * 1024; ++i) large.push_back(static_cast<char>((i * 131 + 7) % 256));
  const std::vector<std::string> data = {
      "x\n",
      "xy\n",
      "xyz\n",
      std::string("a\0b\0\n", 5),
      "\"quoted\" and \\backslash\\\n",
      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\n",
      "\xc3\x28\xa0\xa1\xed\xa0\x80\xff\n",
      "line one\nline two\r\nline three\n",
      all_bytes,
      large,
      large.substr(1),
      large.substr(2),
  };
  Records records;
  for (const auto& d : data) records.Add(d);

  std::string body = Encode("stream", records);
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(doc.MemberCount() == 2);
  CHECK(StringOf(doc["DeliveryStreamName"]) == "stream");
  REQUIRE(doc["Records"].IsArray());
  REQUIRE(doc["Records"].Size() == data.size());
  for (rapidjson::SizeType i = 0; i < doc["Records"].Size(); ++i) {
    INFO("record " << i << " of " << data[i].size() << " bytes");
    const auto& r = doc["Records"][i];
    REQUIRE(r.IsObject());
    CHECK(r.MemberCount() == 1);
    std::string b64 = StringOf(r["Data"]);
    CHECK(b64.size() == (data[i].size() + 2) / 3 * 4);
    CHECK(DecodeBase64(b64) == data[i]);
  }
}

TEST_CASE("EncodePutRecordBatch escapes the delivery stream name", "[firehose]") {
  Records records;
  records.Add("d");
  std::string body = Encode(std::string("my \"stream\"\\\n\0", 14), records);
  CHECK(body.find(R"("DeliveryStreamName":"my \"stream\"\\\n\u0000")") != std::string::npos);
  CHECK(std::none_of(body.begin(), body.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
}

// ---- Response

TEST_CASE("DecodePutRecordBatchResponse reads a full success", "[firehose]") {
  auto r = DecodePutRecordBatchResponse(
      R"({"FailedPutCount":0,"Encrypted":false,"RequestResponses":[)"
      R"({"RecordId":"49543463076548007577105092703039560359975228518395019266"},)"
      R"({"RecordId":"49543463076570308322303623326179887152428262250726293522"}]})",
      2);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  for (const auto& result : *r) {
    CHECK(result.error_code.empty());
    CHECK(result.error_message.empty());
  }
}

TEST_CASE("DecodePutRecordBatchResponse reads per-record failures in request order", "[firehose]") {
  auto r = DecodePutRecordBatchResponse(
      R"({"FailedPutCount":2,"Encrypted":true,"RequestResponses":[)"
      R"({"RecordId":"1"},)"
      R"({"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."},)"
      R"({"RecordId":"3"},)"
      R"({"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."}]})",
      4);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].error_code.empty());
  CHECK((*r)[1].error_code == "ServiceUnavailableException");
  CHECK((*r)[1].error_message == "Slow down.");
  CHECK((*r)[2].error_code.empty());
  CHECK((*r)[3].error_code == "InternalFailure");
  CHECK((*r)[3].error_message == "Internal service failure.");
}

TEST_CASE("DecodePutRecordBatchResponse lets the entries decide", "[firehose]") {
  // FailedPutCount disagreeing with the entries: the entries are what a retry acts on.
  auto r = DecodePutRecordBatchResponse(
      R"({"FailedPutCount":0,"RequestResponses":[{"RecordId":"1"},{"ErrorCode":"InternalFailure"}]})", 2);
  REQUIRE(r.ok());
  CHECK((*r)[0].error_code.empty());
  CHECK((*r)[1].error_code == "InternalFailure");
  CHECK((*r)[1].error_message.empty());

  // Optional fields absent, or null as some serialisers write them.
  auto sparse = DecodePutRecordBatchResponse(
      R"({"RequestResponses":[{"RecordId":"1","ErrorCode":null,"ErrorMessage":null},)"
      R"({"RecordId":null,"ErrorCode":"ServiceUnavailableException"}],"Encrypted":null})",
      2);
  REQUIRE(sparse.ok());
  CHECK((*sparse)[0].error_code.empty());
  CHECK((*sparse)[1].error_code == "ServiceUnavailableException");

  // An entry with both is a failure: a retry costs a duplicate, trusting it could lose the record.
  auto both = DecodePutRecordBatchResponse(
      R"({"FailedPutCount":1,"RequestResponses":[{"RecordId":"1","ErrorCode":"InternalFailure"}]})", 1);
  REQUIRE(both.ok());
  CHECK((*both)[0].error_code == "InternalFailure");
}

TEST_CASE("DecodePutRecordBatchResponse of an empty request", "[firehose]") {
  auto r = DecodePutRecordBatchResponse(R"({"FailedPutCount":0,"RequestResponses":[]})", 0);
  REQUIRE(r.ok());
  CHECK(r->empty());
}

TEST_CASE("DecodePutRecordBatchResponse rejects a wrong result count", "[firehose]") {
  auto fewer = DecodePutRecordBatchResponse(R"({"RequestResponses":[{"RecordId":"1"},{"RecordId":"2"}]})", 3);
  REQUIRE_FALSE(fewer.ok());
  CHECK(fewer.error().code() == ErrorCode::kProtocol);
  CHECK(fewer.error().message() == "PutRecordBatch response has 2 results for 3 records");

  auto more = DecodePutRecordBatchResponse(R"({"RequestResponses":[{"RecordId":"1"},{"RecordId":"2"}]})", 1);
  REQUIRE_FALSE(more.ok());
  CHECK(more.error().message() == "PutRecordBatch response has 2 results for 1 records");
}

TEST_CASE("DecodePutRecordBatchResponse rejects a body that is not JSON", "[firehose]") {
  auto html = DecodePutRecordBatchResponse("<html>Bad Gateway</html>", 1);
  REQUIRE_FALSE(html.ok());
  CHECK(html.error().code() == ErrorCode::kProtocol);
  CHECK(html.error().message() == "PutRecordBatch response is not JSON: Invalid value. at byte 0");

  auto empty = DecodePutRecordBatchResponse("", 1);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message() == "PutRecordBatch response is not JSON: The document is empty. at byte 0");

  auto truncated = DecodePutRecordBatchResponse(R"({"RequestResponses":[{"RecordId":"1"})", 1);
  REQUIRE_FALSE(truncated.ok());
  CHECK_THAT(truncated.error().message(), Catch::StartsWith("PutRecordBatch response is not JSON: "));

  auto trailing = DecodePutRecordBatchResponse(R"({"RequestResponses":[]} extra)", 0);
  CHECK_FALSE(trailing.ok());
}

TEST_CASE("DecodePutRecordBatchResponse rejects JSON of the wrong shape", "[firehose]") {
  struct Case {
    std::string body;
    std::size_t count;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"([{"RecordId":"1"}])", 1, "PutRecordBatch response is not a JSON object"},
      {R"("RequestResponses")", 1, "PutRecordBatch response is not a JSON object"},
      {R"({"FailedPutCount":0})", 1, "PutRecordBatch response has no RequestResponses list"},
      {R"({"RequestResponses":{"RecordId":"1"}})", 1, "PutRecordBatch response has no RequestResponses list"},
      {R"({"RequestResponses":null})", 0, "PutRecordBatch response has no RequestResponses list"},
      {R"({"RequestResponses":["1"]})", 1, "PutRecordBatch result 0 is not an object"},
      {R"({"RequestResponses":[{"RecordId":"1"},[]]})", 2, "PutRecordBatch result 1 is not an object"},
      {R"({"RequestResponses":[{"RecordId":"1"},{}]})", 2,
       "PutRecordBatch result 1 has neither RecordId nor ErrorCode"},
      {R"({"RequestResponses":[{"RecordId":"","ErrorCode":""}]})", 1,
       "PutRecordBatch result 0 has neither RecordId nor ErrorCode"},
      {R"({"RequestResponses":[{"ErrorMessage":"only a message"}]})", 1,
       "PutRecordBatch result 0 has neither RecordId nor ErrorCode"},
      {R"({"RequestResponses":[{"RecordId":1}]})", 1,
       "PutRecordBatch result 0 has a RecordId, ErrorCode or ErrorMessage that is not a string"},
      {R"({"RequestResponses":[{"RecordId":"1","ErrorCode":false}]})", 1,
       "PutRecordBatch result 0 has a RecordId, ErrorCode or ErrorMessage that is not a string"},
      {R"({"RequestResponses":[{"ErrorCode":"InternalFailure","ErrorMessage":{"text":"x"}}]})", 1,
       "PutRecordBatch result 0 has a RecordId, ErrorCode or ErrorMessage that is not a string"},
      {R"({"FailedPutCount":"0","RequestResponses":[{"RecordId":"1"}]})", 1,
       "PutRecordBatch response has a FailedPutCount that is not a non-negative integer"},
      {R"({"FailedPutCount":-1,"RequestResponses":[{"RecordId":"1"}]})", 1,
       "PutRecordBatch response has a FailedPutCount that is not a non-negative integer"},
      {R"({"FailedPutCount":0.5,"RequestResponses":[{"RecordId":"1"}]})", 1,
       "PutRecordBatch response has a FailedPutCount that is not a non-negative integer"},
      {R"({"Encrypted":"yes","RequestResponses":[{"RecordId":"1"}]})", 1,
       "PutRecordBatch response has an Encrypted that is not a boolean"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = DecodePutRecordBatchResponse(c.body, c.count);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == ErrorCode::kProtocol);
    CHECK(r.error().message() == c.message);
  }
}

TEST_CASE("DecodePutRecordBatchResponse survives deep nesting", "[firehose]") {
  // A recursive parser overflows the stack near 100,000 levels; these bodies must come back as errors.
  const std::size_t depth = 1 << 20;
  std::string open(depth, '[');
  std::string closed = open + std::string(depth, ']');
  std::string inside = R"({"RequestResponses":[)" + closed + "]}";
  std::string objects;
  for (std::size_t i = 0; i < depth / 8; ++i) objects += R"({"a":)";
  CHECK_FALSE(DecodePutRecordBatchResponse(open, 1).ok());
  CHECK_FALSE(DecodePutRecordBatchResponse(closed, 1).ok());
  CHECK_FALSE(DecodePutRecordBatchResponse(inside, 1).ok());
  CHECK_FALSE(DecodePutRecordBatchResponse(objects, 1).ok());
  CHECK(DecodeServiceError(500, open).type == "HTTP 500");
  CHECK(DecodeServiceError(500, closed).type == "HTTP 500");
  CHECK(DecodeServiceError(500, objects).type == "HTTP 500");
}

// ---- Service errors

TEST_CASE("Firehose DecodeServiceError reads Firehose error bodies", "[firehose]") {
  ServiceError not_found = DecodeServiceError(
      400,
      R"({"__type":"ResourceNotFoundException","message":"Firehose web under account 123456789012 not found."})");
  CHECK(not_found.type == "ResourceNotFoundException");
  CHECK(not_found.message == "Firehose web under account 123456789012 not found.");

  ServiceError namespaced = DecodeServiceError(
      503,
      R"({"__type":"com.amazonaws.firehose.v20150804#ServiceUnavailableException","message":"Slow down."})");
  CHECK(namespaced.type == "ServiceUnavailableException");
  CHECK(namespaced.message == "Slow down.");

  ServiceError capital = DecodeServiceError(
      400, R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","Message":"bad token"})");
  CHECK(capital.type == "UnrecognizedClientException");
  CHECK(capital.message == "bad token");

  ServiceError both = DecodeServiceError(400, R"({"__type":"X","message":"lower","Message":"upper"})");
  CHECK(both.message == "lower");
}

TEST_CASE("Firehose DecodeServiceError falls back to the HTTP status", "[firehose]") {
  CHECK(DecodeServiceError(500, "<html>Internal Server Error</html>").type == "HTTP 500");
  CHECK(DecodeServiceError(503, "").type == "HTTP 503");
  ServiceError no_type = DecodeServiceError(502, R"({"message":"upstream went away"})");
  CHECK(no_type.type == "HTTP 502");
  CHECK(no_type.message == "upstream went away");
  CHECK(DecodeServiceError(400, R"({"__type":42,"message":7})").type == "HTTP 400");
  CHECK(DecodeServiceError(400, R"({"__type":42,"message":7})").message.empty());
  CHECK(DecodeServiceError(500, R"(["__type"])").type == "HTTP 500");
  CHECK(DecodeServiceError(400, R"({"__type":"ns#"})").type == "HTTP 400");
}

}  // namespace
}  // namespace ferry::firehose
