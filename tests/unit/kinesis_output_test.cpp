// Tests of KinesisOutput's preparation (agent/kinesis/kinesis_output): the record cap a flow's framer gets
// (the stream's record limit less the partition key, less room for compression), the aggregate cap, and
// the protocol `auto` picks for an endpoint.
#include "agent/kinesis/kinesis_output.h"

#include <catch2/catch.hpp>

#include "agent/delivery/payload_compression.h"

namespace ferry::kinesis {
namespace {

using P = kinesis::StreamOptions::Protocol;

aws::ServiceEndpoint At(std::string url, std::string host) {
  return {std::move(url), std::move(host), "us-east-1", "kinesis"};
}

TEST_CASE("auto speaks CBOR to AWS's own endpoints and JSON to any other", "[kinesis_output]") {
  CHECK(KinesisOutput::ChooseProtocol(P::kAuto, At("https://kinesis.us-east-1.amazonaws.com/",
                                                   "kinesis.us-east-1.amazonaws.com")) == Protocol::kCbor);
  CHECK(KinesisOutput::ChooseProtocol(P::kAuto, At("https://kinesis.cn-north-1.amazonaws.com.cn/",
                                                   "kinesis.cn-north-1.amazonaws.com.cn")) ==
        Protocol::kCbor);
  CHECK(KinesisOutput::ChooseProtocol(
            P::kAuto, At("https://vpce-0123-abcd.kinesis.us-east-1.vpce.amazonaws.com/",
                         "vpce-0123-abcd.kinesis.us-east-1.vpce.amazonaws.com")) == Protocol::kCbor);
  CHECK(KinesisOutput::ChooseProtocol(P::kAuto, At("https://kinesis.us-east-1.amazonaws.com:8443/",
                                                   "kinesis.us-east-1.amazonaws.com:8443")) ==
        Protocol::kCbor);
  // Emulators and anything else: JSON, which every Kinesis look-alike reads right.
  CHECK(KinesisOutput::ChooseProtocol(P::kAuto, At("http://127.0.0.1:4567/", "127.0.0.1:4567")) ==
        Protocol::kJson);
  CHECK(KinesisOutput::ChooseProtocol(P::kAuto, At("https://localstack:4566/", "localstack:4566")) ==
        Protocol::kJson);
  CHECK(KinesisOutput::ChooseProtocol(P::kAuto, At("https://amazonaws.com.evil.example/",
                                                   "amazonaws.com.evil.example")) == Protocol::kJson);
  CHECK(KinesisOutput::ChooseProtocol(P::kAuto, At("http://kinesis.us-east-1.amazonaws.com/",
                                                   "kinesis.us-east-1.amazonaws.com")) == Protocol::kJson);
  // Given explicitly, the protocol is what the config says.
  const auto local = At("http://127.0.0.1:4567/", "127.0.0.1:4567");
  CHECK(KinesisOutput::ChooseProtocol(P::kCbor, local) == Protocol::kCbor);
  CHECK(KinesisOutput::ChooseProtocol(P::kJson, At("https://kinesis.us-east-1.amazonaws.com/",
                                                   "kinesis.us-east-1.amazonaws.com")) == Protocol::kJson);
}

TEST_CASE("Records are capped at the stream's limit, less the key and room for compression",
          "[kinesis_output]") {
  kinesis::StreamOptions k;
  k.stream = "s";
  auto parts = KinesisOutput::Prepare(k, "flow", "host");
  REQUIRE(parts.ok());
  CHECK(parts->max_record_bytes == kMaxRecordBytes - RandomPartitionKeys::kKeyBytes);
  CHECK(parts->packing.limits.max_bytes == 50 << 10);

  k.partition_key.kind = kinesis::PartitionKeyOptions::Kind::kTemplate;
  k.partition_key.text = "${hostname}";
  k.max_record_size = 10 << 20;
  parts = KinesisOutput::Prepare(k, "flow", "host");
  REQUIRE(parts.ok());
  CHECK(parts->max_record_bytes == (10 << 20) - PartitionKeyPolicy::kMaxKeyBytes);

  k.compression = Compression::kGzip;
  k.aggregate_max_bytes = 1 << 20;
  k.max_record_size = 1 << 20;
  parts = KinesisOutput::Prepare(k, "flow", "host");
  REQUIRE(parts.ok());
  CHECK(parts->max_record_bytes ==
        LargestCompressibleInput(Compression::kGzip, kMaxRecordBytes - PartitionKeyPolicy::kMaxKeyBytes));
  CHECK(parts->max_record_bytes < kMaxRecordBytes - PartitionKeyPolicy::kMaxKeyBytes - 4000);
  CHECK(parts->packing.limits.max_bytes == LargestCompressibleInput(Compression::kGzip, kMaxRecordBytes));

  // record_newline: the newline is sent with the record, so the record is one byte shorter.
  k.record_newline = true;
  parts = KinesisOutput::Prepare(k, "flow", "host");
  REQUIRE(parts.ok());
  CHECK(parts->packing.record_newline);
  CHECK(parts->max_record_bytes ==
        LargestCompressibleInput(Compression::kGzip, kMaxRecordBytes - PartitionKeyPolicy::kMaxKeyBytes) - 1);
  k = kinesis::StreamOptions{};
  k.record_newline = true;
  parts = KinesisOutput::Prepare(k, "flow", "host");
  REQUIRE(parts.ok());
  CHECK(parts->max_record_bytes == kMaxRecordBytes - RandomPartitionKeys::kKeyBytes - 1);
}

TEST_CASE("A bad partition key stops preparation with the key's error", "[kinesis_output]") {
  kinesis::StreamOptions k;
  k.partition_key.kind = kinesis::PartitionKeyOptions::Kind::kRegex;
  k.partition_key.text = "(unclosed";
  auto parts = KinesisOutput::Prepare(k, "flow", "host");
  REQUIRE_FALSE(parts.ok());
  CHECK(parts.error().message().starts_with("partition_key: "));
}

}  // namespace
}  // namespace ferry::kinesis
