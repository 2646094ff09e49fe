// Tests of the KPL aggregator (agent/kinesis/aggregator): byte-for-byte against what AWS's aws-kinesis-agg
// makes of the same records (tests/golden/aggregates.json, written by tests/golden/make_aggregates.mjs),
// Fits() against the real encoded size, the limits, the MD5 trailer, and reuse after Reset.
#include "agent/kinesis/aggregator.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <protozero/pbf_reader.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef FERRY_GOLDEN_DIR
#error "FERRY_GOLDEN_DIR must name the tests/golden folder"
#endif

namespace ferry::kinesis {
namespace {

constexpr std::string_view kMagic("\xF3\x89\x9A\xC2", 4);
constexpr std::size_t kFraming = Aggregator::kMagicBytes + Aggregator::kChecksumBytes;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

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

std::string Md5(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  REQUIRE(EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_md5(), nullptr) == 1);
  return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

std::string Finished(const Aggregator& aggregator) {
  std::string out;
  Status status = aggregator.Finish(out);
  INFO((status.ok() ? std::string() : status.error().message()));
  REQUIRE(status.ok());
  REQUIRE(out.size() == aggregator.encoded_bytes());
  return out;
}

struct UserRecord {
  std::string partition_key;
  std::string explicit_hash_key;  // empty: none
  std::string data;
};

// An aggregate read back with protozero's reader, as a deaggregator would, after checking magic and MD5.
struct Decoded {
  struct Entry {
    std::uint64_t partition_key_index = 0;
    std::optional<std::uint64_t> explicit_hash_key_index;
    std::string data;
  };
  std::vector<std::string> partition_keys;
  std::vector<std::string> explicit_hash_keys;
  std::vector<Entry> records;

  std::vector<UserRecord> UserRecords() const {
    std::vector<UserRecord> out;
    for (const Entry& e : records) {
      REQUIRE(e.partition_key_index < partition_keys.size());
      UserRecord r{partition_keys[e.partition_key_index], "", e.data};
      if (e.explicit_hash_key_index) {
        REQUIRE(*e.explicit_hash_key_index < explicit_hash_keys.size());
        r.explicit_hash_key = explicit_hash_keys[*e.explicit_hash_key_index];
      }
      out.push_back(std::move(r));
    }
    return out;
  }
};

Decoded Decode(std::string_view aggregate) {
  REQUIRE(aggregate.size() >= kFraming);
  REQUIRE(aggregate.substr(0, kMagic.size()) == kMagic);
  std::string_view protobuf = aggregate.substr(kMagic.size(), aggregate.size() - kFraming);
  REQUIRE(aggregate.substr(aggregate.size() - Aggregator::kChecksumBytes) == Md5(protobuf));

  Decoded out;
  protozero::pbf_reader message(protobuf.data(), protobuf.size());
  while (message.next()) {
    switch (message.tag()) {
      case 1:
        out.partition_keys.push_back(message.get_string());
        break;
      case 2:
        out.explicit_hash_keys.push_back(message.get_string());
        break;
      case 3: {
        Decoded::Entry entry;
        bool has_data = false;
        protozero::pbf_reader record = message.get_message();
        while (record.next()) {
          switch (record.tag()) {
            case 1:
              entry.partition_key_index = record.get_uint64();
              break;
            case 2:
              entry.explicit_hash_key_index = record.get_uint64();
              break;
            case 3:
              entry.data = record.get_bytes();
              has_data = true;
              break;
            default:
              FAIL("unexpected Record field " << record.tag());
          }
        }
        CHECK(has_data);
        out.records.push_back(std::move(entry));
        break;
      }
      default:
        FAIL("unexpected AggregatedRecord field " << message.tag());
    }
  }
  return out;
}

bool operator==(const UserRecord& a, const UserRecord& b) {
  return a.partition_key == b.partition_key && a.explicit_hash_key == b.explicit_hash_key && a.data == b.data;
}

std::string StringMember(const rapidjson::Value& object, const char* name) {
  if (!object.HasMember(name)) return {};
  REQUIRE(object[name].IsString());
  return {object[name].GetString(), object[name].GetStringLength()};
}

// An aggregator holding records (views into them, so they must outlive it).
Aggregator Replay(std::span<const UserRecord> records, AggregatorOptions options) {
  Aggregator aggregator(options);
  for (const UserRecord& r : records) aggregator.Add(r.partition_key, r.explicit_hash_key, r.data);
  return aggregator;
}

TEST_CASE("Aggregator writes what aws-kinesis-agg writes, byte for byte", "[aggregator]") {
  const std::string path = std::string(FERRY_GOLDEN_DIR) + "/aggregates.json";
  INFO("golden file: " << path);
  rapidjson::Document golden;
  golden.Parse(ReadFile(path));
  REQUIRE_FALSE(golden.HasParseError());
  REQUIRE(golden.HasMember("cases"));
  const rapidjson::Value& cases = golden["cases"];
  REQUIRE(cases.IsArray());
  REQUIRE(cases.Size() >= 9);

  for (const rapidjson::Value& c : cases.GetArray()) {
    INFO("case: " << StringMember(c, "name"));
    std::vector<UserRecord> records;
    for (const rapidjson::Value& r : c["records"].GetArray()) {
      records.push_back(UserRecord{StringMember(r, "partition_key"), StringMember(r, "explicit_hash_key"),
                                   DecodeBase64(StringMember(r, "data"))});
    }

    Aggregator aggregator(AggregatorOptions{.max_bytes = 1 << 20, .max_records = 1000});
    for (const UserRecord& r : records) {
      REQUIRE(aggregator.Fits(r.partition_key, r.explicit_hash_key, r.data.size()));
      aggregator.Add(r.partition_key, r.explicit_hash_key, r.data);
    }
    CHECK(aggregator.records() == records.size());
    CHECK(aggregator.first_partition_key() == StringMember(c, "partition_key"));
    CHECK(aggregator.first_explicit_hash_key() == StringMember(c, "explicit_hash_key"));

    const std::string expected = DecodeBase64(StringMember(c, "aggregate"));
    const std::string actual = Finished(aggregator);
    CHECK(actual.size() == expected.size());
    CHECK(actual == expected);
    CHECK(Decode(actual).UserRecords() == records);
  }
}

TEST_CASE("Aggregator keeps integer-like keys in first-use order", "[aggregator]") {
  // aws-kinesis-agg's aggregator lists such keys in numeric order and so misnumbers them (see
  // make_aggregates.mjs); the format wants each index to name the key its record was added with.
  const std::vector<UserRecord> records = {
      {"10", "9", "a"}, {"b", "", "b"},  {"2", "340282366920938463463374607431768211455", "c"},
      {"10", "1", "d"}, {"2", "9", "e"},
  };
  const Aggregator aggregator = Replay(records, {});
  const Decoded decoded = Decode(Finished(aggregator));
  CHECK(decoded.partition_keys == std::vector<std::string>{"10", "b", "2"});
  CHECK(decoded.explicit_hash_keys ==
        std::vector<std::string>{"9", "340282366920938463463374607431768211455", "1"});
  CHECK(decoded.UserRecords() == records);
  CHECK_FALSE(decoded.records[1].explicit_hash_key_index.has_value());
}

TEST_CASE("Aggregator key tables match keys by content, not by address", "[aggregator]") {
  std::string first = "same-key";
  std::string second = first;  // another buffer, as when two batches carry one key
  Aggregator aggregator;
  aggregator.Add(first, "", "x");
  std::size_t after_one = aggregator.encoded_bytes();
  aggregator.Add(second, "", "y");
  // The second record costs its Record message only: key 1, index 0, data key, length 1, "y" = 5 bytes,
  // plus the records field's key and length.
  CHECK(aggregator.encoded_bytes() - after_one == 7);
  CHECK(Decode(Finished(aggregator)).partition_keys == std::vector<std::string>{"same-key"});
}

TEST_CASE("Aggregator's Fits is exact against the real encoding", "[aggregator]") {
  std::mt19937_64 rng(20251126);
  // Lengths around every varint boundary that matters here, and keys long enough for two-byte lengths.
  const std::vector<std::size_t> data_sizes = {0,   1,     2,     126,   127,   128,  129,
                                               300, 16382, 16383, 16384, 16385, 20000};
  std::vector<std::string> partition_keys;
  for (int i = 0; i < 200; ++i) {
    std::size_t length = 1 + rng() % (i % 10 == 0 ? 256 : 20);
    std::string key(length, 'k');
    for (char& ch : key) ch = static_cast<char>('a' + rng() % 26);
    partition_keys.push_back(std::move(key));
  }
  std::vector<std::string> hash_keys;
  for (int i = 0; i < 160; ++i) hash_keys.push_back(std::to_string(rng()) + std::to_string(rng()));

  std::vector<UserRecord> records;
  for (int i = 0; i < 260; ++i) {
    UserRecord r;
    r.partition_key = partition_keys[rng() % partition_keys.size()];
    if (rng() % 3 != 0) r.explicit_hash_key = hash_keys[rng() % hash_keys.size()];
    std::size_t size = rng() % 4 == 0 ? data_sizes[rng() % data_sizes.size()] : rng() % 200;
    r.data.resize(size);
    for (char& ch : r.data) ch = static_cast<char>(rng());
    records.push_back(std::move(r));
  }

  // For each prefix, the next record fits a limit of exactly the size the aggregate then has (plus the
  // outer partition key), and not one byte less.
  Aggregator growing(AggregatorOptions{.max_bytes = 64 << 20, .max_records = 100000});
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const UserRecord& r = records[i];
    growing.Add(r.partition_key, r.explicit_hash_key, r.data);
    const std::string encoded = Finished(growing);
    const std::size_t counted = encoded.size() + records[0].partition_key.size();

    const std::span<const UserRecord> prefix(records.data(), i);
    const Aggregator exact = Replay(prefix, AggregatorOptions{.max_bytes = counted, .max_records = 100000});
    const Aggregator short_by_one =
        Replay(prefix, AggregatorOptions{.max_bytes = counted - 1, .max_records = 100000});
    if (!exact.Fits(r.partition_key, r.explicit_hash_key, r.data.size()) ||
        short_by_one.Fits(r.partition_key, r.explicit_hash_key, r.data.size())) {
      ++mismatches;
      UNSCOPED_INFO("record " << i << " of " << r.data.size() << " bytes, aggregate " << encoded.size());
    }
  }
  CHECK(mismatches == 0);
  CHECK(Decode(Finished(growing)).UserRecords() == records);
}

TEST_CASE("Aggregator honours max_records", "[aggregator]") {
  Aggregator aggregator(AggregatorOptions{.max_bytes = 50 * 1024, .max_records = 3});
  for (int i = 0; i < 3; ++i) {
    REQUIRE(aggregator.Fits("k", "", 10));
    aggregator.Add("k", "", "0123456789");
  }
  CHECK_FALSE(aggregator.Fits("k", "", 0));
  CHECK(aggregator.records() == 3);
}

TEST_CASE("Aggregator honours max_bytes, counting the outer partition key", "[aggregator]") {
  const AggregatorOptions options{.max_bytes = 50 * 1024, .max_records = 1000000};
  Aggregator aggregator(options);
  const std::string outer_key(64, 'o');
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("k" + std::to_string(i));
  const std::string data(700, 'd');  // Add keeps views, so keys and data outlive the aggregator
  std::mt19937_64 rng(99);
  std::string_view key = outer_key;
  while (true) {
    std::string_view bytes = std::string_view(data).substr(0, rng() % data.size());
    if (!aggregator.Fits(key, "", bytes.size())) {
      // Refused: adding it would have crossed the limit.
      Aggregator over = aggregator;
      over.Add(key, "", bytes);
      CHECK(over.encoded_bytes() + outer_key.size() > options.max_bytes);
      break;
    }
    aggregator.Add(key, "", bytes);
    key = keys[rng() % keys.size()];
  }
  CHECK(aggregator.records() > 50);
  CHECK(aggregator.first_partition_key() == outer_key);
  CHECK(aggregator.encoded_bytes() + outer_key.size() <= options.max_bytes);
  CHECK(Finished(aggregator).size() == aggregator.encoded_bytes());
}

TEST_CASE("Aggregator refuses a record too big to aggregate, even when empty", "[aggregator]") {
  Aggregator aggregator(AggregatorOptions{.max_bytes = 1000, .max_records = 1000});
  CHECK(aggregator.Fits("k", "", 900));
  CHECK_FALSE(aggregator.Fits("k", "", 1000));
  CHECK_FALSE(aggregator.Fits("k", "", std::numeric_limits<std::size_t>::max()));
  // The framing counts: 4 magic + 16 MD5 + key table entry (1 + 1 + 1) + records field (1 + 2) +
  // Record (1 + 1 + 1 + 2) + partition key 1 = 32 bytes beyond the data.
  CHECK(aggregator.Fits("k", "", 1000 - 32));
  CHECK_FALSE(aggregator.Fits("k", "", 1000 - 31));
}

TEST_CASE("Aggregator frames the protobuf with the magic and its MD5", "[aggregator]") {
  Aggregator aggregator;
  aggregator.Add("pk", "", "hello");
  aggregator.Add("pk2", "42", std::string_view("\0\xff", 2));
  const std::string out = Finished(aggregator);
  REQUIRE(out.size() > kFraming);
  CHECK(out.substr(0, 4) == kMagic);
  const std::string_view protobuf = std::string_view(out).substr(4, out.size() - kFraming);
  CHECK(out.substr(out.size() - 16) == Md5(protobuf));
  // Any changed protobuf byte would fail a checksum-verifying reader.
  CHECK(Md5(std::string(protobuf) + "x") != out.substr(out.size() - 16));
}

TEST_CASE("Aggregator writes into a caller's buffer of exactly encoded_bytes()", "[aggregator]") {
  Aggregator aggregator;
  aggregator.Add("pk", "", "data");
  std::vector<char> buffer(aggregator.encoded_bytes() + 1, '#');
  CHECK_FALSE(aggregator.Finish(std::span<char>(buffer.data(), buffer.size())).ok());
  Status status = aggregator.Finish(std::span<char>(buffer.data(), aggregator.encoded_bytes()));
  REQUIRE(status.ok());
  CHECK(std::string(buffer.data(), aggregator.encoded_bytes()) == Finished(aggregator));
  CHECK(buffer.back() == '#');

  std::string appended = "prefix";
  REQUIRE(aggregator.Finish(appended).ok());
  CHECK(appended == "prefix" + Finished(aggregator));
}

TEST_CASE("Aggregator tells a lone record, to be sent raw", "[aggregator]") {
  Aggregator aggregator;
  CHECK(aggregator.empty());
  CHECK(aggregator.encoded_bytes() == kFraming);
  CHECK(aggregator.first_partition_key().empty());
  CHECK(aggregator.first_explicit_hash_key().empty());
  CHECK(aggregator.first_data().empty());

  aggregator.Add("pk", "1234", "only");
  CHECK(aggregator.records() == 1);
  CHECK(aggregator.first_partition_key() == "pk");
  CHECK(aggregator.first_explicit_hash_key() == "1234");
  CHECK(aggregator.first_data() == "only");

  // The outer keys stay the first record's as more arrive.
  aggregator.Add("other", "", "more");
  CHECK(aggregator.first_partition_key() == "pk");
  CHECK(aggregator.first_explicit_hash_key() == "1234");
  CHECK(aggregator.first_data() == "only");
}

TEST_CASE("Aggregator after Reset encodes as a fresh one", "[aggregator]") {
  const std::vector<UserRecord> first = {{"a", "", "1"}, {"b", "77", "22"}, {"a", "77", "333"}};
  const std::vector<UserRecord> second = {{"b", "", "x"}, {"c", "5", ""}, {"b", "6", "yy"}};

  Aggregator reused;
  for (const UserRecord& r : first) reused.Add(r.partition_key, r.explicit_hash_key, r.data);
  const std::string first_bytes = Finished(reused);
  reused.Reset();
  CHECK(reused.empty());
  CHECK(reused.records() == 0);
  CHECK(reused.encoded_bytes() == kFraming);
  CHECK(reused.first_partition_key().empty());

  for (const UserRecord& r : second) reused.Add(r.partition_key, r.explicit_hash_key, r.data);
  CHECK(Finished(reused) == Finished(Replay(second, {})));
  CHECK(Decode(Finished(reused)).UserRecords() == second);
  CHECK(first_bytes == Finished(Replay(first, {})));
}

TEST_CASE("Aggregator with record_newline ends each record with a newline, counted exactly", "[aggregator]") {
  // Sizes whose newline crosses a varint boundary of the data's length (127 + 1, 16383 + 1).
  std::vector<UserRecord> records;
  std::vector<UserRecord> with_newlines;  // what a plain aggregator must be given for the same bytes
  std::mt19937_64 rng(20261205);
  const std::vector<std::size_t> sizes = {0, 1, 126, 127, 128, 16382, 16383, 16384, 40, 300};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    UserRecord r{"key" + std::to_string(i % 3), i % 2 == 0 ? "" : std::to_string(rng()), {}};
    r.data.resize(sizes[i]);
    for (char& ch : r.data) ch = static_cast<char>(rng());
    records.push_back(r);
    r.data += '\n';
    with_newlines.push_back(std::move(r));
  }
  const AggregatorOptions newline{.max_bytes = 1 << 20, .max_records = 1000, .record_newline = true};
  Aggregator growing(newline);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const UserRecord& r = records[i];
    growing.Add(r.partition_key, r.explicit_hash_key, r.data);
    const std::span<const UserRecord> prefix(records.data(), i);
    // The same bytes as the records given with their newlines, and Fits exact to the byte with them.
    const std::string encoded = Finished(growing);
    CHECK(encoded == Finished(Replay(std::span(with_newlines.data(), i + 1), {.max_bytes = 1 << 20})));
    const std::size_t counted = encoded.size() + records[0].partition_key.size();
    AggregatorOptions exact = newline;
    exact.max_bytes = counted;
    AggregatorOptions short_by_one = newline;
    short_by_one.max_bytes = counted - 1;
    CHECK(Replay(prefix, exact).Fits(r.partition_key, r.explicit_hash_key, r.data.size()));
    CHECK_FALSE(Replay(prefix, short_by_one).Fits(r.partition_key, r.explicit_hash_key, r.data.size()));
  }
  CHECK(Decode(Finished(growing)).UserRecords() == with_newlines);
  // What is sent raw or again one by one is the data alone: the packer adds the newline there.
  CHECK(growing.first_data() == records[0].data);
  std::size_t n = 0;
  growing.ForEachRecord([&](std::string_view, std::string_view data) { CHECK(data == records[n++].data); });
  // The newline counts against a lone record's room too: one byte less than without it.
  Aggregator small(AggregatorOptions{.max_bytes = 1000, .max_records = 1000, .record_newline = true});
  CHECK(small.Fits("k", "", 1000 - 33));
  CHECK_FALSE(small.Fits("k", "", 1000 - 32));
  CHECK_FALSE(small.Fits("k", "", 999));
}

}  // namespace
}  // namespace ferry::kinesis
