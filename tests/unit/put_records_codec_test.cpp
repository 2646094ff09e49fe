// Tests of the PutRecords codec (agent/kinesis/put_records_codec): the request body is JSON whose
// base64 data decodes to the exact record bytes, and responses and service errors are read as documented.
#include "agent/kinesis/put_records_codec.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::kinesis {
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
  void Add(std::string_view data, std::string_view key) { list.push_back(WireRecord{data, key, batch}); }
};

std::string Encode(std::string_view stream, const Records& records) {
  std::string out;
  EncodePutRecords(stream, records.list, out);
  return out;
}

std::string StringOf(const rapidjson::Value& v) {
  REQUIRE(v.IsString());
  return std::string(v.GetString(), v.GetStringLength());
}

TEST_CASE("EncodePutRecords writes the documented envelope", "[put_records_codec]") {
  Records records;
  records.Add("foo", "k1");
  records.Add("f", "k2");
  CHECK(Encode("web-logs", records) ==
        R"({"StreamName":"web-logs","Records":[{"Data":"Zm9v","PartitionKey":"k1"},)"
        R"({"Data":"Zg==","PartitionKey":"k2"}]})");
}

TEST_CASE("EncodePutRecords writes an explicit hash key where a record has one", "[put_records_codec]") {
  Records records;
  records.Add("foo", "k1");
  records.list.back().explicit_hash_key = "170141183460469231731687303715884105728";
  records.Add("f", "k2");
  CHECK(
      Encode("s", records) ==
      R"({"StreamName":"s","Records":[{"Data":"Zm9v","PartitionKey":"k1",)"
      R"("ExplicitHashKey":"170141183460469231731687303715884105728"},{"Data":"Zg==","PartitionKey":"k2"}]})");
}

TEST_CASE("EncodePutRecords with no records writes an empty list", "[put_records_codec]") {
  Records records;
  CHECK(Encode("s", records) == R"({"StreamName":"s","Records":[]})");
}

TEST_CASE("EncodePutRecords appends to what the buffer holds", "[put_records_codec]") {
  Records records;
  records.Add("fo", "k");
  std::string out = "PREFIX";
  EncodePutRecords("s", records.list, out);
  CHECK(out == R"(PREFIX{"StreamName":"s","Records":[{"Data":"Zm8=","PartitionKey":"k"}]})");
}

TEST_CASE("EncodePutRecords base64 has the standard padding", "[put_records_codec]") {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {"\xff\xfe\xfd", "//79"},
      {std::string("\0", 1), "AA=="},
      {"", ""},
  };
  for (const auto& [data, b64] : vectors) {
    Records records;
    records.Add(data, "k");
    rapidjson::Document doc;
    std::string body = Encode("s", records);
    doc.Parse(body.data(), body.size());
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(StringOf(doc["Records"][0u]["Data"]) == b64);
  }
}

TEST_CASE("EncodePutRecords data decodes to exactly the record bytes", "[put_records_codec]") {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::string large;
  for (std::size_t i = 0; i < 100 * 1024; ++i) large.push_back(static_cast<char>((i * 131 + 7) % 256));
  const std::vector<std::string> data = {
      "x",                                                      // 1 byte: two padding characters
      "xy",                                                     // 2 bytes: one padding character
      "xyz",                                                    // 3 bytes: none
      "wxyz",                                                   // 3 + 1
      std::string("\0", 1),                                     // a NUL alone
      std::string("a\0b\0", 4),                                 // NULs inside
      "\"quoted\" and \\backslash\\",                           // JSON metacharacters
      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",  // UTF-8
      "\xc3\x28\xa0\xa1\xed\xa0\x80\xff",                       // invalid UTF-8
      "line\r\n\t\x01\x1f\x7f",
      all_bytes,
      large,
      large + "z",
      large + "zz",
  };
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < data.size(); ++i) keys.push_back("key-" + std::to_string(i));
  Records records;
  for (std::size_t i = 0; i < data.size(); ++i) records.Add(data[i], keys[i]);

  std::string body = Encode("stream", records);
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(StringOf(doc["StreamName"]) == "stream");
  REQUIRE(doc["Records"].IsArray());
  REQUIRE(doc["Records"].Size() == data.size());
  for (rapidjson::SizeType i = 0; i < doc["Records"].Size(); ++i) {
    INFO("record " << i << " of " << data[i].size() << " bytes");
    const auto& r = doc["Records"][i];
    REQUIRE(r.IsObject());
    CHECK(r.MemberCount() == 2);
    std::string b64 = StringOf(r["Data"]);
    CHECK(b64.size() == (data[i].size() + 2) / 3 * 4);
    CHECK(DecodeBase64(b64) == data[i]);
    CHECK(StringOf(r["PartitionKey"]) == keys[i]);
  }
}

TEST_CASE("EncodePutRecords escapes partition keys and the stream name", "[put_records_codec]") {
  const std::vector<std::string> keys = {
      "plain",
      "say \"hi\"",
      "back\\slash",
      "tab\there\nnewline\rcr",
      std::string("nul\0inside", 10),
      "\x01\x1f",
      "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80",
      "</script>",
  };
  Records records;
  for (const auto& key : keys) records.Add("d", key);
  std::string body = Encode("my \"stream\"\\", records);

  // Escapes as JSON writes them.
  CHECK(body.find(R"("StreamName":"my \"stream\"\\")") != std::string::npos);
  CHECK(body.find(R"("PartitionKey":"say \"hi\"")") != std::string::npos);
  CHECK(body.find(R"("PartitionKey":"back\\slash")") != std::string::npos);
  CHECK(body.find(R"("PartitionKey":"tab\there\nnewline\rcr")") != std::string::npos);
  CHECK(body.find(R"("PartitionKey":"nul\u0000inside")") != std::string::npos);
  CHECK(body.find(R"("PartitionKey":"\u0001\u001F")") != std::string::npos);
  // Non-ASCII UTF-8 goes through as is.
  CHECK(body.find("\"PartitionKey\":\"caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80\"") !=
        std::string::npos);
  // No raw control character anywhere in the body.
  CHECK(std::none_of(body.begin(), body.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }));

  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(StringOf(doc["StreamName"]) == "my \"stream\"\\");
  REQUIRE(doc["Records"].Size() == keys.size());
  for (rapidjson::SizeType i = 0; i < keys.size(); ++i) {
    CHECK(StringOf(doc["Records"][i]["PartitionKey"]) == keys[i]);
    CHECK(StringOf(doc["Records"][i]["Data"]) == "ZA==");
  }
}

TEST_CASE("DecodePutRecordsResponse reads a full success", "[put_records_codec]") {
  auto r = DecodePutRecordsResponse(
      R"({"FailedRecordCount":0,"Records":[)"
      R"({"SequenceNumber":"49543463076548007577105092703039560359975228518395019266","ShardId":"shardId-000000000000"},)"
      R"({"SequenceNumber":"49543463076570308322303623326179887152428262250726293522","ShardId":"shardId-000000000001"}]})",
      2);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].error_code.empty());
  CHECK((*r)[0].error_message.empty());
  CHECK((*r)[1].error_code.empty());
  CHECK((*r)[1].error_message.empty());
}

TEST_CASE("DecodePutRecordsResponse reads per-record failures", "[put_records_codec]") {
  auto r = DecodePutRecordsResponse(
      R"({"FailedRecordCount":2,"Records":[)"
      R"({"SequenceNumber":"1","ShardId":"shardId-000000000000"},)"
      R"({"ErrorCode":"ProvisionedThroughputExceededException",)"
      R"("ErrorMessage":"Rate exceeded for shard shardId-000000000001 in stream exampleStreamName."},)"
      R"({"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."}]})",
      3);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].error_code.empty());
  CHECK((*r)[1].error_code == "ProvisionedThroughputExceededException");
  CHECK((*r)[1].error_message == "Rate exceeded for shard shardId-000000000001 in stream exampleStreamName.");
  CHECK((*r)[2].error_code == "InternalFailure");
  CHECK((*r)[2].error_message == "Internal service failure.");
}

TEST_CASE("DecodePutRecordsResponse of an empty request", "[put_records_codec]") {
  auto r = DecodePutRecordsResponse(R"({"FailedRecordCount":0,"Records":[]})", 0);
  REQUIRE(r.ok());
  CHECK(r->empty());
}

TEST_CASE("DecodePutRecordsResponse rejects a wrong result count", "[put_records_codec]") {
  auto r = DecodePutRecordsResponse(R"({"Records":[{"SequenceNumber":"1"},{"SequenceNumber":"2"}]})", 3);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kProtocol);
  CHECK(r.error().message() == "PutRecords response has 2 results for 3 records");

  auto fewer = DecodePutRecordsResponse(R"({"Records":[{"SequenceNumber":"1"},{"SequenceNumber":"2"}]})", 1);
  REQUIRE_FALSE(fewer.ok());
  CHECK(fewer.error().message() == "PutRecords response has 2 results for 1 records");
}

TEST_CASE("Deeply nested bodies are errors, not stack overflows", "[put_records_codec]") {
  std::string deep(200'000, '[');
  CHECK_FALSE(DecodePutRecordsResponse(deep, 1).ok());
  deep += std::string(200'000, ']');
  CHECK_FALSE(DecodePutRecordsResponse(deep, 1).ok());
  CHECK_FALSE(DecodeServiceError(500, deep).type.empty());  // falls back to the HTTP status
}

TEST_CASE("DecodePutRecordsResponse rejects a body that is not JSON", "[put_records_codec]") {
  auto html = DecodePutRecordsResponse("<html>Bad Gateway</html>", 1);
  REQUIRE_FALSE(html.ok());
  CHECK(html.error().code() == ErrorCode::kProtocol);
  CHECK(html.error().message() == "PutRecords response is not JSON: Invalid value. at byte 0");

  auto empty = DecodePutRecordsResponse("", 1);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code() == ErrorCode::kProtocol);
  CHECK(empty.error().message() == "PutRecords response is not JSON: The document is empty. at byte 0");

  auto truncated = DecodePutRecordsResponse(R"({"Records":[{"SequenceNumber":"1"})", 1);
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.error().code() == ErrorCode::kProtocol);
  CHECK(truncated.error().message().rfind("PutRecords response is not JSON: ", 0) == 0);

  // A body that is JSON followed by more text is not a response either.
  auto trailing = DecodePutRecordsResponse(R"({"Records":[]} extra)", 0);
  CHECK_FALSE(trailing.ok());
}

TEST_CASE("DecodePutRecordsResponse rejects JSON of the wrong shape", "[put_records_codec]") {
  auto array = DecodePutRecordsResponse(R"([{"SequenceNumber":"1"}])", 1);
  REQUIRE_FALSE(array.ok());
  CHECK(array.error().code() == ErrorCode::kProtocol);
  CHECK(array.error().message() == "PutRecords response is not a JSON object");

  auto missing = DecodePutRecordsResponse(R"({"FailedRecordCount":0})", 1);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == ErrorCode::kProtocol);
  CHECK(missing.error().message() == "PutRecords response has no Records list");

  auto not_list = DecodePutRecordsResponse(R"({"Records":{"SequenceNumber":"1"}})", 1);
  REQUIRE_FALSE(not_list.ok());
  CHECK(not_list.error().message() == "PutRecords response has no Records list");

  auto not_object = DecodePutRecordsResponse(R"({"Records":["1"]})", 1);
  REQUIRE_FALSE(not_object.ok());
  CHECK(not_object.error().message() == "PutRecords result is not an object");
}

TEST_CASE("DecodePutRecordsResponse rejects a result with neither SequenceNumber nor ErrorCode",
          "[put_records_codec]") {
  auto r = DecodePutRecordsResponse(R"({"Records":[{"SequenceNumber":"1"},{"ShardId":"shardId-0"}]})", 2);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kProtocol);
  CHECK(r.error().message() == "PutRecords result 1 has neither SequenceNumber nor ErrorCode");

  auto empty_values = DecodePutRecordsResponse(R"({"Records":[{"SequenceNumber":"","ErrorCode":""}]})", 1);
  REQUIRE_FALSE(empty_values.ok());
  CHECK(empty_values.error().message() == "PutRecords result 0 has neither SequenceNumber nor ErrorCode");

  auto wrong_types = DecodePutRecordsResponse(R"({"Records":[{"SequenceNumber":1,"ErrorCode":null}]})", 1);
  REQUIRE_FALSE(wrong_types.ok());
  CHECK(wrong_types.error().message() == "PutRecords result 0 has neither SequenceNumber nor ErrorCode");
}

TEST_CASE("DecodeServiceError strips the namespace from __type", "[put_records_codec]") {
  ServiceError e =
      DecodeServiceError(400, R"({"__type":"com.amazonaws.kinesis.v20131202#ResourceNotFoundException",)"
                              R"("message":"Stream web-logs under account 123456789012 not found."})");
  CHECK(e.type == "ResourceNotFoundException");
  CHECK(e.message == "Stream web-logs under account 123456789012 not found.");
}

TEST_CASE("DecodeServiceError keeps a plain __type", "[put_records_codec]") {
  ServiceError e =
      DecodeServiceError(400, R"({"__type":"ValidationException","message":"1 validation error"})");
  CHECK(e.type == "ValidationException");
  CHECK(e.message == "1 validation error");
}

TEST_CASE("DecodeServiceError reads Message with a capital M", "[put_records_codec]") {
  ServiceError e = DecodeServiceError(
      400,
      R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","Message":"The security token )"
      R"(included in the request is invalid."})");
  CHECK(e.type == "UnrecognizedClientException");
  CHECK(e.message == "The security token included in the request is invalid.");

  ServiceError both = DecodeServiceError(400, R"({"__type":"X","message":"lower","Message":"upper"})");
  CHECK(both.message == "lower");
}

TEST_CASE("DecodeServiceError falls back to the HTTP status", "[put_records_codec]") {
  ServiceError garbage = DecodeServiceError(500, "<html><body>Internal Server Error</body></html>");
  CHECK(garbage.type == "HTTP 500");
  CHECK(garbage.message.empty());

  ServiceError empty = DecodeServiceError(503, "");
  CHECK(empty.type == "HTTP 503");
  CHECK(empty.message.empty());

  ServiceError no_type = DecodeServiceError(502, R"({"message":"upstream went away"})");
  CHECK(no_type.type == "HTTP 502");
  CHECK(no_type.message == "upstream went away");

  ServiceError not_string = DecodeServiceError(400, R"({"__type":42})");
  CHECK(not_string.type == "HTTP 400");

  ServiceError array = DecodeServiceError(500, R"(["__type"])");
  CHECK(array.type == "HTTP 500");
  CHECK(array.message.empty());
}

}  // namespace
}  // namespace ferry::kinesis
