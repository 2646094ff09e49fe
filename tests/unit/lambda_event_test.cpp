// Tests of the lambda plugin's event (plugins/lambda/lambda_event, invocation_ids): the line is one compact
// JSON object with the fields of Firehose's transformation event, records' data in base64 that decodes to
// the record's bytes, ids "0", "1", ..., the ARN and region escaped; its size is exactly what EmptyBytes and
// RecordBytes promise (invocations are cut to batch_bytes by that sum); invocation ids are UUID v4, distinct,
// and the same for the same seed.
#include "plugins/lambda/lambda_event.h"

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "plugins/lambda/base64_decode.h"
#include "plugins/lambda/invocation_ids.h"

namespace ferry::plugins {
namespace {

std::vector<Record> Records(const std::vector<std::string>& texts) {
  std::vector<Record> out;
  for (const auto& t : texts) out.push_back(Record{t, 0});
  return out;
}

TEST_CASE("lambda event: Firehose's fields, records in base64, ids by position", "[lambda]") {
  const std::vector<std::string> texts = {"hello", "", std::string("bin\0\xff\n", 6), "{\"a\":\"b\"}"};
  const std::vector<Record> records = Records(texts);
  LambdaEventWriter writer("arn:aws:firehose:eu-west-1:000000000000:deliverystream/web", "eu-west-1");
  std::string line;
  writer.Write(line, "6b9f3d2e-1c4a-4f1e-9a55-0123456789ab", 1'700'000'000'123, records);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.find(' ') == std::string::npos);  // compact

  rapidjson::Document doc;
  doc.Parse(line.data(), line.size() - 1);
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["invocationId"].GetString()) == "6b9f3d2e-1c4a-4f1e-9a55-0123456789ab");
  CHECK(std::string(doc["deliveryStreamArn"].GetString()) ==
        "arn:aws:firehose:eu-west-1:000000000000:deliverystream/web");
  CHECK(std::string(doc["region"].GetString()) == "eu-west-1");
  const auto& rs = doc["records"];
  REQUIRE(rs.Size() == texts.size());
  for (rapidjson::SizeType i = 0; i < rs.Size(); ++i) {
    CHECK(std::string(rs[i]["recordId"].GetString()) == std::to_string(i));
    CHECK(rs[i]["approximateArrivalTimestamp"].GetInt64() == 1'700'000'000'123);
    std::string data;
    REQUIRE(AppendBase64Decoded(data, rs[i]["data"].GetString()));
    CHECK(data == texts[i]);
  }
  // Only the members of the event, in Firehose's order.
  std::vector<std::string> names;
  // By index: clang's C++20 rules find rapidjson's member iterators' != ambiguous.
  for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
    names.emplace_back(doc.MemberBegin()[i].name.GetString());
  }
  CHECK(names == std::vector<std::string>{"invocationId", "deliveryStreamArn", "region", "records"});
}

TEST_CASE("lambda event: its size is known before it is written", "[lambda]") {
  LambdaEventWriter writer("arn:with \"quotes\" and \\ and \x01", "r\xc3\xa9gion");
  for (std::int64_t arrival :
       {std::int64_t{0}, std::int64_t{7}, std::int64_t{1'700'000'000'123}, std::int64_t{-5}}) {
    for (std::size_t n : {0, 1, 2, 9, 10, 11, 101}) {
      std::vector<std::string> texts;
      for (std::size_t i = 0; i < n; ++i) texts.push_back(std::string(i % 7, 'x'));
      std::size_t expected = writer.EmptyBytes();
      for (std::size_t i = 0; i < n; ++i)
        expected += LambdaEventWriter::RecordBytes(i, arrival, texts[i].size());
      std::string line;
      writer.Write(line, InvocationIds(1).Next(), arrival, Records(texts));
      CHECK(line.size() == expected);
      rapidjson::Document doc;
      doc.Parse(line.data(), line.size());
      REQUIRE_FALSE(doc.HasParseError());
      CHECK(std::string(doc["deliveryStreamArn"].GetString()) == "arn:with \"quotes\" and \\ and \x01");
      CHECK(std::string(doc["region"].GetString()) == "r\xc3\xa9gion");
      CHECK(doc["records"].Size() == n);
    }
  }
}

TEST_CASE("lambda invocation ids are UUID v4, distinct, and repeat with the seed", "[lambda]") {
  const std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  InvocationIds a(42), b(42), c(43);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = a.Next();
    CHECK(id.size() == InvocationIds::kLength);
    CHECK(std::regex_match(id, uuid4));
    CHECK(seen.insert(id).second);
    CHECK(b.Next() == id);
  }
  CHECK(seen.count(c.Next()) == 0);
}

}  // namespace
}  // namespace ferry::plugins
