// Tests of the PutRecords CBOR codec (agent/kinesis/put_records_cbor_codec) and of StreamDestination
// speaking it: the request body is definite-length CBOR that libcbor reads back to exactly the records,
// responses in either length encoding are read as the JSON codec reads its own, and bodies that are
// malformed, truncated, of the wrong shape or nested without end are errors, never crashes.
#include "agent/kinesis/put_records_cbor_codec.h"

#include <cbor.h>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/aws/json_request.h"
#include "agent/kinesis/stream_destination.h"
#include "tests/unit/signed_request_test_support.h"

namespace ferry::kinesis {

using testing::FixedClock;
using testing::Header;
namespace {

// Records over caller-owned strings; one shared batch keeps the WireRecord contract.
struct Records {
  BatchRef batch{new Batch(1, 0, nullptr, 64, nullptr)};
  std::vector<WireRecord> list;
  void Add(std::string_view data, std::string_view key, std::string_view hash_key = {}) {
    WireRecord r{data, key, batch};
    r.explicit_hash_key = hash_key;
    list.push_back(r);
  }
};

std::string Encode(std::string_view stream, const Records& records) {
  std::string out;
  EncodePutRecordsCbor(stream, records.list, out);
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// A libcbor tree in diagnostic notation; containers and strings must have definite lengths.
std::string Diag(const cbor_item_t* item) {
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT:
      return std::to_string(cbor_get_int(item));
    case CBOR_TYPE_BYTESTRING:
      REQUIRE(cbor_bytestring_is_definite(item));
      return "h'" +
             Hex({reinterpret_cast<const char*>(cbor_bytestring_handle(item)),
                  cbor_bytestring_length(item)}) +
             "'";
    case CBOR_TYPE_STRING:
      REQUIRE(cbor_string_is_definite(item));
      return "\"" +
             std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item)) +
             "\"";
    case CBOR_TYPE_ARRAY: {
      REQUIRE(cbor_array_is_definite(item));
      std::string out = "[";
      for (std::size_t i = 0; i < cbor_array_size(item); ++i) {
        if (i > 0) out += ", ";
        out += Diag(cbor_array_handle(item)[i]);
      }
      return out + "]";
    }
    case CBOR_TYPE_MAP: {
      REQUIRE(cbor_map_is_definite(item));
      std::string out = "{";
      for (std::size_t i = 0; i < cbor_map_size(item); ++i) {
        if (i > 0) out += ", ";
        out += Diag(cbor_map_handle(item)[i].key) + ": " + Diag(cbor_map_handle(item)[i].value);
      }
      return out + "}";
    }
    default:
      FAIL("unexpected CBOR type " << cbor_typeof(item));
      return {};
  }
}

// Loads a whole body with libcbor's own decoder and renders it.
std::string Load(std::string_view body) {
  cbor_load_result result{};
  cbor_item_t* item = cbor_load(reinterpret_cast<cbor_data>(body.data()), body.size(), &result);
  REQUIRE(item != nullptr);
  REQUIRE(result.error.code == CBOR_ERR_NONE);
  CHECK(result.read == body.size());
  std::string diag = Diag(item);
  cbor_decref(&item);
  return diag;
}

// Builds test bodies: definite heads through libcbor's encoders, anything else as raw bytes.
class Cbor {
 public:
  Cbor& Map(std::size_t pairs) { return Head(cbor_encode_map_start, pairs); }
  Cbor& Array(std::size_t items) { return Head(cbor_encode_array_start, items); }
  Cbor& Text(std::string_view text) {
    Head(cbor_encode_string_start, text.size());
    bytes_.append(text);
    return *this;
  }
  Cbor& Bytes(std::string_view data) {
    Head(cbor_encode_bytestring_start, data.size());
    bytes_.append(data);
    return *this;
  }
  Cbor& Uint(std::uint64_t value) {
    std::array<unsigned char, 9> head{};
    bytes_.append(reinterpret_cast<const char*>(head.data()),
                  cbor_encode_uint(value, head.data(), head.size()));
    return *this;
  }
  Cbor& Raw(std::string_view raw) {
    bytes_.append(raw);
    return *this;
  }
  Cbor& IndefiniteMap() { return Raw("\xbf"); }
  Cbor& IndefiniteArray() { return Raw("\x9f"); }
  Cbor& IndefiniteText() { return Raw("\x7f"); }
  Cbor& Break() { return Raw("\xff"); }
  Cbor& Null() { return Raw("\xf6"); }
  const std::string& bytes() const { return bytes_; }
  operator std::string_view() const { return bytes_; }  // NOLINT(google-explicit-constructor)

 private:
  Cbor& Head(std::size_t (*encode)(std::size_t, unsigned char*, std::size_t), std::size_t value) {
    std::array<unsigned char, 9> head{};
    bytes_.append(reinterpret_cast<const char*>(head.data()), encode(value, head.data(), head.size()));
    return *this;
  }
  std::string bytes_;
};

// {"FailedRecordCount": 1, "Records": [stored on shard 0, throttled]} with definite lengths.
Cbor PartialFailure() {
  Cbor c;
  c.Map(2).Text("FailedRecordCount").Uint(1).Text("Records").Array(2);
  c.Map(2).Text("SequenceNumber").Text("49543463076548007577105092703039560359975228518395019266");
  c.Text("ShardId").Text("shardId-000000000000");
  c.Map(2).Text("ErrorCode").Text("ProvisionedThroughputExceededException");
  c.Text("ErrorMessage").Text("Rate exceeded for shard shardId-000000000001 in stream exampleStreamName.");
  return c;
}

std::string ErrorOf(std::string_view body, std::size_t count) {
  auto r = DecodePutRecordsCborResponse(body, count);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kProtocol);
  return r.error().message();
}

TEST_CASE("EncodePutRecordsCbor writes the documented envelope, byte for byte", "[cbor]") {
  Records records;
  records.Add("foo", "k1");
  records.Add(std::string_view("\x00\xff", 2), "k2", "170141183460469231731687303715884105728");
  std::string body = Encode("web-logs", records);

  std::string expected;
  expected += "\xa2";  // map of 2
  expected +=
      "\x6a"
      "StreamName"
      "\x68"
      "web-logs";  // text(10), text(8)
  expected +=
      "\x67"
      "Records"
      "\x82";  // text(7), array of 2
  expected +=
      "\xa2"
      "\x64"
      "Data"
      "\x43"
      "foo";  // map of 2, bytes(3)
  expected +=
      "\x6c"
      "PartitionKey"
      "\x62"
      "k1";  // text(12), text(2)
  expected +=
      "\xa3"
      "\x64"
      "Data"
      "\x42" +
      std::string("\x00\xff", 2);  // map of 3, bytes(2)
  expected +=
      "\x6c"
      "PartitionKey"
      "\x62"
      "k2";
  expected +=
      "\x6f"
      "ExplicitHashKey"
      "\x78\x27"
      "170141183460469231731687303715884105728";  // text(39)
  CHECK(Hex(body) == Hex(expected));

  CHECK(
      Load(body) ==
      R"({"StreamName": "web-logs", "Records": [{"Data": h'666f6f', "PartitionKey": "k1"}, )"
      R"({"Data": h'00ff', "PartitionKey": "k2", "ExplicitHashKey": "170141183460469231731687303715884105728"}]})");
}

TEST_CASE("EncodePutRecordsCbor with no records writes an empty array", "[cbor]") {
  Records records;
  std::string body = Encode("s", records);
  CHECK(Hex(body) == Hex("\xa2\x6aStreamName\x61s\x67Records\x80"));
  CHECK(Load(body) == R"({"StreamName": "s", "Records": []})");
}

TEST_CASE("EncodePutRecordsCbor appends to what the buffer holds", "[cbor]") {
  Records records;
  records.Add("", "k");
  std::string out = "PREFIX";
  EncodePutRecordsCbor("s", records.list, out);
  REQUIRE(out.rfind("PREFIX", 0) == 0);
  CHECK(Load(std::string_view(out).substr(6)) ==
        R"({"StreamName": "s", "Records": [{"Data": h'', "PartitionKey": "k"}]})");
}

TEST_CASE("EncodePutRecordsCbor data reads back as exactly the record bytes", "[cbor]") {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::string large;  // over 65535 bytes: a 4-byte length in the head
  for (std::size_t i = 0; i < 100 * 1024; ++i) large.push_back(static_cast<char>((i * 131 + 7) % 256));
  const std::vector<std::string> data = {
      std::string("\0", 1),
      std::string("a\0b\xff", 4),
      std::string(23, 'x'),
      std::string(24, 'y'),
      std::string(255, 'z'),
      std::string(256, 'w'),
      all_bytes,
      large,
  };
  Records records;
  for (const auto& d : data) records.Add(d, "caf\xc3\xa9");
  std::string body = Encode("s", records);

  cbor_load_result result{};
  cbor_item_t* root = cbor_load(reinterpret_cast<cbor_data>(body.data()), body.size(), &result);
  REQUIRE(root != nullptr);
  REQUIRE(result.error.code == CBOR_ERR_NONE);
  CHECK(result.read == body.size());
  cbor_item_t* list = cbor_map_handle(root)[1].value;
  REQUIRE(cbor_array_size(list) == data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    INFO("record " << i << " of " << data[i].size() << " bytes");
    cbor_item_t* record = cbor_array_handle(list)[i];
    cbor_item_t* bytes = cbor_map_handle(record)[0].value;
    REQUIRE(cbor_isa_bytestring(bytes));
    CHECK(std::string(reinterpret_cast<const char*>(cbor_bytestring_handle(bytes)),
                      cbor_bytestring_length(bytes)) == data[i]);
    cbor_item_t* key = cbor_map_handle(record)[1].value;
    REQUIRE(cbor_isa_string(key));
    CHECK(std::string(reinterpret_cast<const char*>(cbor_string_handle(key)), cbor_string_length(key)) ==
          "caf\xc3\xa9");
  }
  cbor_decref(&root);
  // Raw bytes cost no base64: the body is barely larger than the data.
  CHECK(body.size() < large.size() + all_bytes.size() + 1024);
}

TEST_CASE("DecodePutRecordsCborResponse reads a full success", "[cbor]") {
  Cbor c;
  c.Map(2).Text("FailedRecordCount").Uint(0).Text("Records").Array(2);
  c.Map(2).Text("SequenceNumber").Text("1").Text("ShardId").Text("shardId-000000000000");
  c.Map(2).Text("SequenceNumber").Text("2").Text("ShardId").Text("shardId-000000000001");
  auto r = DecodePutRecordsCborResponse(c, 2);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].error_code.empty());
  CHECK((*r)[0].error_message.empty());
  CHECK((*r)[0].shard_id == "shardId-000000000000");
  CHECK((*r)[1].error_code.empty());
  CHECK((*r)[1].shard_id == "shardId-000000000001");
}

TEST_CASE("DecodePutRecordsCborResponse reads per-record failures", "[cbor]") {
  auto r = DecodePutRecordsCborResponse(PartialFailure(), 2);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].error_code.empty());
  CHECK((*r)[0].shard_id == "shardId-000000000000");
  CHECK((*r)[1].error_code == "ProvisionedThroughputExceededException");
  CHECK((*r)[1].error_message == "Rate exceeded for shard shardId-000000000001 in stream exampleStreamName.");
  CHECK((*r)[1].shard_id.empty());
}

TEST_CASE("DecodePutRecordsCborResponse of an empty request", "[cbor]") {
  auto r = DecodePutRecordsCborResponse(
      Cbor().Map(2).Text("FailedRecordCount").Uint(0).Text("Records").Array(0), 0);
  REQUIRE(r.ok());
  CHECK(r->empty());
}

// Bytes from hex, for bodies captured from other encoders.
std::string Unhex(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST_CASE("DecodePutRecordsCborResponse reads what node's cbor package writes", "[cbor]") {
  // cbor 5.2.0's Encoder, as kinesalite and the tests' own endpoint answer.
  std::string body = Unhex(
      "a2714661696c65645265636f7264436f756e7401675265636f72647382a2694572726f72436f6465782650726f766973696f"
      "6e65645468726f7567687075744578636565646564457863657074696f6e6c4572726f724d65737361676568696e6a656374"
      "6564a26e53657175656e63654e756d6265726133675368617264496474736861726449642d303030303030303030303030");
  auto r = DecodePutRecordsCborResponse(body, 2);
  REQUIRE(r.ok());
  CHECK((*r)[0].error_code == "ProvisionedThroughputExceededException");
  CHECK((*r)[0].error_message == "injected");
  CHECK((*r)[1].error_code.empty());
  CHECK((*r)[1].shard_id == "shardId-000000000000");

  ServiceError e = DecodeCborServiceError(
      400,
      Unhex("a2665f5f7479706578195265736f757263654e6f74466f756e64457863657074696f6e676d657373616765626e6f"));
  CHECK(e.type == "ResourceNotFoundException");
  CHECK(e.message == "no");
}

TEST_CASE("DecodePutRecordsCborResponse reads indefinite lengths as SDKs write them", "[cbor]") {
  // Jackson, under the AWS SDK for Java, writes maps and arrays with indefinite lengths.
  Cbor c;
  c.IndefiniteMap().Text("FailedRecordCount").Uint(1).Text("Records").IndefiniteArray();
  c.IndefiniteMap().Text("SequenceNumber").Text("1").Text("ShardId").Text("shardId-000000000000").Break();
  // Keys and values may come as strings in chunks.
  c.IndefiniteMap().IndefiniteText().Text("Error").Text("Code").Break();
  c.IndefiniteText().Text("Internal").Text("").Text("Failure").Break();
  c.Text("ErrorMessage").IndefiniteText().Break();
  c.Break();
  c.Break().Break();
  auto r = DecodePutRecordsCborResponse(c, 2);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].error_code.empty());
  CHECK((*r)[0].shard_id == "shardId-000000000000");
  CHECK((*r)[1].error_code == "InternalFailure");
  CHECK((*r)[1].error_message.empty());

  // libcbor's tree decoder agrees that this is CBOR.
  cbor_load_result result{};
  cbor_item_t* item = cbor_load(reinterpret_cast<cbor_data>(c.bytes().data()), c.bytes().size(), &result);
  REQUIRE(item != nullptr);
  CHECK(result.error.code == CBOR_ERR_NONE);
  cbor_decref(&item);
}

TEST_CASE("DecodePutRecordsCborResponse passes over tags, unknown members and other keys", "[cbor]") {
  Cbor c;
  c.Raw("\xd9\xd9\xf7");  // tag 55799: self-described CBOR
  c.Map(5).Uint(7).Text("a key that is not text");
  c.Text("EncryptionType").Text("KMS");
  c.Text("Extra").IndefiniteMap().Text("list").Array(4).Uint(1).Raw("\xfb\x40\x09\x21\xfb\x54\x44\x2d\x18");
  c.Raw("\xf5").Null().Text("bytes").Raw("\x5f\x41z\x40\xff").Break();  // a double, true, chunked bytes
  c.Text("Records").Array(1).Map(3).Text("SequenceNumber").Raw("\xc1").Text("1");  // a tagged text
  c.Text("Unknown").Array(0).Text("ShardId").Text("shardId-000000000002");
  c.Text("Records").Text("a second Records member is not read");
  auto r = DecodePutRecordsCborResponse(c, 1);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].error_code.empty());
  CHECK((*r)[0].shard_id == "shardId-000000000002");
}

TEST_CASE("DecodePutRecordsCborResponse takes the first member of a name", "[cbor]") {
  Cbor c;
  c.Map(1).Text("Records").Array(1).Map(3).Text("ErrorCode").Text("InternalFailure");
  c.Text("ErrorCode").Text("Other").Text("ErrorMessage").Text("first");
  auto r = DecodePutRecordsCborResponse(c, 1);
  REQUIRE(r.ok());
  CHECK((*r)[0].error_code == "InternalFailure");

  Cbor not_text_first;
  not_text_first.Map(1).Text("Records").Array(1).Map(2).Text("SequenceNumber").Uint(1);
  not_text_first.Text("SequenceNumber").Text("1");
  CHECK(ErrorOf(not_text_first, 1) == "PutRecords result 0 has neither SequenceNumber nor ErrorCode");
}

TEST_CASE("DecodePutRecordsCborResponse rejects a wrong result count", "[cbor]") {
  Cbor c;
  c.Map(1).Text("Records").Array(2);
  c.Map(1).Text("SequenceNumber").Text("1").Map(1).Text("SequenceNumber").Text("2");
  CHECK(ErrorOf(c, 3) == "PutRecords response has 2 results for 3 records");
  CHECK(ErrorOf(c, 1) == "PutRecords response has 2 results for 1 records");

  // With an indefinite array the count is known only at its break; bad results do not hide it.
  Cbor indefinite;
  indefinite.Map(1).Text("Records").IndefiniteArray().Uint(1).Uint(2).Uint(3).Break();
  CHECK(ErrorOf(indefinite, 2) == "PutRecords response has 3 results for 2 records");
  CHECK(ErrorOf(indefinite, 4) == "PutRecords response has 3 results for 4 records");
  CHECK(ErrorOf(indefinite, 3) == "PutRecords result is not a map");
}

TEST_CASE("DecodePutRecordsCborResponse rejects CBOR of the wrong shape", "[cbor]") {
  CHECK(ErrorOf(Cbor().Array(1).Map(1).Text("SequenceNumber").Text("1"), 1) ==
        "PutRecords response is not a CBOR map");
  CHECK(ErrorOf(Cbor().Text("Records"), 1) == "PutRecords response is not a CBOR map");
  CHECK(ErrorOf(Cbor().Null(), 0) == "PutRecords response is not a CBOR map");
  CHECK(ErrorOf(Cbor().Map(1).Text("FailedRecordCount").Uint(0), 1) ==
        "PutRecords response has no Records list");
  CHECK(ErrorOf(Cbor().Map(1).Text("Records").Map(1).Text("SequenceNumber").Text("1"), 1) ==
        "PutRecords response has no Records list");
  CHECK(ErrorOf(Cbor().Map(1).Bytes("Records").Array(0), 0) == "PutRecords response has no Records list");
  CHECK(ErrorOf(Cbor().Map(1).Text("Records").Array(1).Text("1"), 1) == "PutRecords result is not a map");
  CHECK(ErrorOf(Cbor().Map(1).Text("Records").Array(1).Array(0), 1) == "PutRecords result is not a map");
}

TEST_CASE("DecodePutRecordsCborResponse rejects a result with neither SequenceNumber nor ErrorCode",
          "[cbor]") {
  Cbor shard_only;
  shard_only.Map(1).Text("Records").Array(2).Map(1).Text("SequenceNumber").Text("1");
  shard_only.Map(1).Text("ShardId").Text("shardId-0");
  CHECK(ErrorOf(shard_only, 2) == "PutRecords result 1 has neither SequenceNumber nor ErrorCode");

  Cbor empty_values;
  empty_values.Map(1)
      .Text("Records")
      .Array(1)
      .Map(2)
      .Text("SequenceNumber")
      .Text("")
      .Text("ErrorCode")
      .Text("");
  CHECK(ErrorOf(empty_values, 1) == "PutRecords result 0 has neither SequenceNumber nor ErrorCode");

  Cbor wrong_types;  // a number, a null and a byte string are not text
  wrong_types.Map(1).Text("Records").Array(1).Map(3).Text("SequenceNumber").Uint(1).Text("ErrorCode").Null();
  wrong_types.Text("ShardId").Bytes("shardId-0");
  CHECK(ErrorOf(wrong_types, 1) == "PutRecords result 0 has neither SequenceNumber nor ErrorCode");

  // The first unusable result is the one reported.
  Cbor two_bad;
  two_bad.Map(1).Text("Records").Array(2).Map(0).Uint(5);
  CHECK(ErrorOf(two_bad, 2) == "PutRecords result 0 has neither SequenceNumber nor ErrorCode");
}

TEST_CASE("DecodePutRecordsCborResponse rejects a body that is not CBOR", "[cbor]") {
  CHECK(ErrorOf("", 1) == "PutRecords response is not CBOR: unexpected end at byte 0");
  // '{' is a text string with an 8-byte length: JSON is not mistaken for an answer.
  CHECK(ErrorOf(R"({"Records":[]})", 0) == "PutRecords response is not CBOR: unexpected end at byte 0");
  CHECK(ErrorOf("<html>Bad Gateway</html>", 1) ==
        "PutRecords response is not CBOR: malformed or unsupported item at byte 0");
  CHECK(ErrorOf("\x1c", 1) == "PutRecords response is not CBOR: malformed or unsupported item at byte 0");
  CHECK(ErrorOf("\xff", 1) ==
        "PutRecords response is not CBOR: break outside an indefinite-length item at byte 0");

  // libcbor 0.8's streaming decoder refuses one-byte tags 6 to 20 and simple values, although they are
  // well formed; no AWS answer uses them.
  CHECK(ErrorOf("\xc6\x80", 0) == "PutRecords response is not CBOR: malformed or unsupported item at byte 0");
  CHECK(ErrorOf("\xf8\x20", 0) == "PutRecords response is not CBOR: malformed or unsupported item at byte 0");

  Cbor trailing;
  trailing.Map(1).Text("Records").Array(0).Uint(0);
  CHECK(ErrorOf(trailing, 0) == "PutRecords response is not CBOR: bytes after the item at byte 10");

  Cbor odd_map;  // a key, then the break
  odd_map.IndefiniteMap().Text("Records").Break();
  CHECK(ErrorOf(odd_map, 0) ==
        "PutRecords response is not CBOR: break outside an indefinite-length item at byte 9");

  Cbor mixed_chunks;  // a text string in byte-string chunks
  mixed_chunks.Map(1).IndefiniteText().Bytes("Records").Break().Array(0);
  CHECK(ErrorOf(mixed_chunks, 0) ==
        "PutRecords response is not CBOR: indefinite-length string with a chunk of another kind at byte 2");

  Cbor nested_chunks;
  nested_chunks.Map(1).IndefiniteText().IndefiniteText().Break().Break().Array(0);
  CHECK_THAT(ErrorOf(nested_chunks, 0), Catch::StartsWith("PutRecords response is not CBOR: "));

  Cbor tag_then_break;
  tag_then_break.Map(1).Text("Records").IndefiniteArray().Raw("\xc1").Break();
  CHECK(ErrorOf(tag_then_break, 0) == "PutRecords response is not CBOR: break after a tag at byte 11");

  Cbor break_in_definite;
  break_in_definite.Map(1).Text("Records").Array(1).Break();
  CHECK_THAT(ErrorOf(break_in_definite, 1),
             Catch::StartsWith("PutRecords response is not CBOR: break outside"));

  Cbor odd_skipped_map;  // inside an unknown member
  odd_skipped_map.Map(2).Text("Extra").IndefiniteMap().Uint(1).Break().Text("Records").Array(0);
  CHECK(ErrorOf(odd_skipped_map, 0) == "PutRecords response is not CBOR: map key without a value at byte 9");
}

TEST_CASE("DecodePutRecordsCborResponse rejects every truncation of a good body", "[cbor]") {
  Cbor indefinite;
  indefinite.IndefiniteMap().Text("Records").IndefiniteArray().IndefiniteMap().Text("ErrorCode");
  indefinite.IndefiniteText().Text("Internal").Break().Break().Break().Break();
  const std::vector<std::pair<std::string, std::size_t>> bodies = {{PartialFailure().bytes(), 2},
                                                                   {indefinite.bytes(), 1}};
  for (const auto& [whole, count] : bodies) {
    REQUIRE(DecodePutRecordsCborResponse(whole, count).ok());
    for (std::size_t n = 0; n < whole.size(); ++n) {
      INFO("first " << n << " of " << whole.size() << " bytes");
      auto r = DecodePutRecordsCborResponse(std::string_view(whole).substr(0, n), count);
      REQUIRE_FALSE(r.ok());
      CHECK_THAT(r.error().message(),
                 Catch::StartsWith("PutRecords response is not CBOR: unexpected end at byte"));
    }
  }
}

TEST_CASE("DecodePutRecordsCborResponse is not fooled by lengths longer than the body", "[cbor]") {
  // 2^64 - 1 items, bytes, or pairs: each needs a byte, so none of these can fit.
  for (std::string_view head : {"\x9b", "\x5b", "\x7b", "\xbb", "\x9a", "\x5a"}) {
    std::string body = Cbor().Map(1).Text("Records").Raw(head).Raw(std::string(8, '\xff')).bytes();
    CHECK_THAT(ErrorOf(body, 1),
               Catch::StartsWith("PutRecords response is not CBOR: unexpected end at byte"));
  }
  CHECK_THAT(ErrorOf("\xbb\x7f\xff\xff\xff\xff\xff\xff\xff", 1),
             Catch::StartsWith("PutRecords response is not CBOR: unexpected end at byte 0"));
}

TEST_CASE("Deeply nested CBOR bodies are errors, not stack overflows", "[cbor]") {
  std::string definite = Cbor().Map(2).Text("Extra").Raw(std::string(200'000, '\x81')).Uint(0).bytes();
  definite += Cbor().Text("Records").Array(0).bytes();
  CHECK(ErrorOf(definite, 0) == "PutRecords response is not CBOR: nested too deeply at byte 39");

  std::string indefinite(200'000, '\x9f');
  CHECK_FALSE(DecodePutRecordsCborResponse(indefinite, 1).ok());
  indefinite += std::string(200'000, '\xff');
  CHECK(ErrorOf(indefinite, 1) == "PutRecords response is not CBOR: nested too deeply at byte 32");
  CHECK(DecodeCborServiceError(500, indefinite).type == "HTTP 500");

  // Nesting up to the limit is read.
  std::string nested = Cbor().Map(2).Text("Extra").Raw(std::string(32, '\x81')).Uint(0).bytes();
  nested += Cbor().Text("Records").Array(0).bytes();
  CHECK(DecodePutRecordsCborResponse(nested, 0).ok());

  // Tag chains cost a byte each and are passed over.
  std::string tags(100'000, '\xc1');
  CHECK(ErrorOf(tags + "\x80", 0) == "PutRecords response is not a CBOR map");
  CHECK(ErrorOf(tags, 0) == "PutRecords response is not CBOR: unexpected end at byte 100000");
}

TEST_CASE("DecodeCborServiceError strips the namespace from __type", "[cbor]") {
  Cbor c;
  c.Map(2).Text("__type").Text("com.amazonaws.kinesis.v20131202#ResourceNotFoundException");
  c.Text("message").Text("Stream web-logs under account 123456789012 not found.");
  ServiceError e = DecodeCborServiceError(400, c);
  CHECK(e.type == "ResourceNotFoundException");
  CHECK(e.message == "Stream web-logs under account 123456789012 not found.");
}

TEST_CASE("DecodeCborServiceError keeps a plain __type and reads indefinite lengths", "[cbor]") {
  Cbor c;
  c.IndefiniteMap().Text("__type").Text("ValidationException");
  c.IndefiniteText().Text("mess").Text("age").Break().Text("1 validation error").Break();
  ServiceError e = DecodeCborServiceError(400, c);
  CHECK(e.type == "ValidationException");
  CHECK(e.message == "1 validation error");
}

TEST_CASE("DecodeCborServiceError reads Message with a capital M", "[cbor]") {
  Cbor upper;
  upper.Map(2).Text("__type").Text("com.amazon.coral.service#UnrecognizedClientException");
  upper.Text("Message").Text("The security token included in the request is invalid.");
  ServiceError e = DecodeCborServiceError(400, upper);
  CHECK(e.type == "UnrecognizedClientException");
  CHECK(e.message == "The security token included in the request is invalid.");

  Cbor both;
  both.Map(3).Text("__type").Text("X").Text("Message").Text("upper").Text("message").Text("lower");
  CHECK(DecodeCborServiceError(400, both).message == "lower");
}

TEST_CASE("DecodeCborServiceError reads a JSON error body as JSON", "[cbor]") {
  // Kinesis has been seen answering CBOR requests with JSON error bodies.
  ServiceError e = DecodeCborServiceError(
      500,
      R"({"__type":"com.amazonaws.kinesis.v20131202#InternalFailure","message":"Internal service failure."})");
  CHECK(e.type == "InternalFailure");
  CHECK(e.message == "Internal service failure.");
}

TEST_CASE("DecodeCborServiceError falls back to the HTTP status", "[cbor]") {
  ServiceError garbage = DecodeCborServiceError(500, "<html><body>Internal Server Error</body></html>");
  CHECK(garbage.type == "HTTP 500");
  CHECK(garbage.message.empty());

  ServiceError empty = DecodeCborServiceError(503, "");
  CHECK(empty.type == "HTTP 503");
  CHECK(empty.message.empty());

  ServiceError no_type =
      DecodeCborServiceError(502, Cbor().Map(1).Text("message").Text("upstream went away"));
  CHECK(no_type.type == "HTTP 502");
  CHECK(no_type.message == "upstream went away");

  ServiceError not_text = DecodeCborServiceError(400, Cbor().Map(1).Text("__type").Uint(42));
  CHECK(not_text.type == "HTTP 400");

  ServiceError array = DecodeCborServiceError(500, Cbor().Array(1).Text("__type"));
  CHECK(array.type == "HTTP 500");
  CHECK(array.message.empty());

  ServiceError truncated = DecodeCborServiceError(500, Cbor().Map(2).Text("__type").Text("X"));
  CHECK(truncated.type == "HTTP 500");
  CHECK(truncated.message.empty());
}

// ---- StreamDestination with Protocol::kCbor

const aws::ServiceEndpoint kEndpoint{"http://127.0.0.1:4567/", "127.0.0.1:4567", "us-east-1", "kinesis"};

net::HttpResponse Response(int status, std::string_view body, std::string_view content_type) {
  net::HttpResponse response;
  response.status = status;
  response.body = body;
  if (!content_type.empty()) response.headers.emplace_back("content-type", content_type);
  return response;
}

TEST_CASE("StreamDestination with Protocol::kCbor sends a signed CBOR PutRecords request", "[cbor]") {
  FixedClock clock;
  Records records;
  records.Add(std::string_view("\x00line\xff", 6), "k1");
  records.Add("x", "k2", "42");
  aws::Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  aws::FixedCredentials source(credentials);
  StreamDestination destination("web-logs", kEndpoint, source, clock, Protocol::kCbor);
  CHECK(destination.description() == "Kinesis stream 'web-logs' at http://127.0.0.1:4567/");

  net::HttpRequest request = destination.BuildRequest(records.list).value();
  CHECK(request.url == "http://127.0.0.1:4567/");
  CHECK(request.method == "POST");
  CHECK(request.body == Encode("web-logs", records));
  CHECK(Load(request.body) == R"({"StreamName": "web-logs", "Records": [{"Data": h'006c696e65ff', )"
                              R"("PartitionKey": "k1"}, {"Data": h'78', "PartitionKey": "k2", )"
                              R"("ExplicitHashKey": "42"}]})");
  REQUIRE(Header(request, "Content-Type") != nullptr);
  CHECK(*Header(request, "Content-Type") == "application/x-amz-cbor-1.1");
  CHECK(*Header(request, "Content-Type") == aws::kCborContentType);
  REQUIRE(Header(request, "X-Amz-Target") != nullptr);
  CHECK(*Header(request, "X-Amz-Target") == "Kinesis_20131202.PutRecords");
  REQUIRE(Header(request, "Authorization") != nullptr);

  // The signature covers the CBOR content type and body as sent.
  std::vector<std::pair<std::string, std::string>> unsigned_headers(request.headers.begin(),
                                                                    request.headers.begin() + 3);
  aws::Signed expected =
      aws::SignRequest(aws::RequestToSign{"POST", "/", "", unsigned_headers, request.body}, credentials,
                       aws::SigningParams{"us-east-1", "kinesis", 1440938160});
  CHECK(*Header(request, "Authorization") == expected.authorization);

  // The default protocol is still JSON.
  StreamDestination json("web-logs", kEndpoint, source, clock);
  net::HttpRequest json_request = json.BuildRequest(records.list).value();
  CHECK(*Header(json_request, "Content-Type") == "application/x-amz-json-1.1");
  CHECK(json_request.body.rfind(R"({"StreamName":"web-logs","Records":[{"Data":"AGxpbmX/")", 0) == 0);
}

TEST_CASE("StreamDestination with Protocol::kCbor reads CBOR answers", "[cbor]") {
  FixedClock clock;
  aws::FixedCredentials keys({"AKID", "secret", ""});
  StreamDestination destination("s", kEndpoint, keys, clock, Protocol::kCbor);

  RequestOutcome partial =
      destination.ReadResponse(Response(200, PartialFailure(), aws::kCborContentType), 2);
  CHECK_FALSE(partial.failed);
  CHECK(partial.record_errors == std::vector<std::string>{"", "ProvisionedThroughputExceededException"});
  CHECK(partial.record_lanes == std::vector<std::string>{"shardId-000000000000", ""});
  CHECK(partial.first_record_message ==
        "Rate exceeded for shard shardId-000000000001 in stream exampleStreamName.");

  Cbor not_found;
  not_found.Map(2)
      .Text("__type")
      .Text("ResourceNotFoundException")
      .Text("message")
      .Text("Stream s not found.");
  RequestOutcome missing = destination.ReadResponse(Response(400, not_found, aws::kCborContentType), 2);
  CHECK(missing.failed);
  CHECK(missing.error_code == "ResourceNotFoundException");
  CHECK(missing.error_message == "HTTP 400: Stream s not found.");

  RequestOutcome short_list = destination.ReadResponse(Response(200, PartialFailure(), ""), 3);
  CHECK(short_list.failed);
  CHECK(short_list.error_code == "InvalidResponse");
  CHECK(short_list.error_message == "PutRecords response has 2 results for 3 records");

  // An answer that says it is JSON is read as JSON.
  RequestOutcome json = destination.ReadResponse(
      Response(
          200,
          R"({"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000003"}]})",
          "application/x-amz-json-1.1"),
      1);
  CHECK_FALSE(json.failed);
  CHECK(json.record_lanes == std::vector<std::string>{"shardId-000000000003"});

  RequestOutcome json_error = destination.ReadResponse(
      Response(400, R"({"__type":"ValidationException","message":"bad"})", "application/x-amz-json-1.1"), 1);
  CHECK(json_error.error_code == "ValidationException");

  RequestOutcome gateway =
      destination.ReadResponse(Response(502, "<html>Bad Gateway</html>", "text/html"), 2);
  CHECK(gateway.failed);
  CHECK(gateway.error_code == "HTTP 502");
}

}  // namespace
}  // namespace ferry::kinesis
