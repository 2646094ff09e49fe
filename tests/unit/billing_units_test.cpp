// Tests of the billing units (agent/delivery/billing_units): Kinesis PUT payload units and Firehose billed
// bytes at the edges of their steps.
#include "agent/delivery/billing_units.h"

#include <catch2/catch.hpp>

namespace ferry {
namespace {

TEST_CASE("A Kinesis record costs a PUT payload unit per started 25,600 bytes, at least one", "[billing]") {
  CHECK(KinesisPayloadUnits(0) == 1);
  CHECK(KinesisPayloadUnits(1) == 1);
  CHECK(KinesisPayloadUnits(25'599) == 1);
  CHECK(KinesisPayloadUnits(25'600) == 1);
  CHECK(KinesisPayloadUnits(25'601) == 2);
  CHECK(KinesisPayloadUnits(51'200) == 2);
  CHECK(KinesisPayloadUnits(51'201) == 3);
  CHECK(KinesisPayloadUnits(1'048'576) == 41);  // a 1 MiB record: 40.96 units
}

TEST_CASE("A Firehose record is billed in started 5,120-byte steps, at least one step", "[billing]") {
  CHECK(FirehoseBilledBytes(0) == 5'120);
  CHECK(FirehoseBilledBytes(1) == 5'120);
  CHECK(FirehoseBilledBytes(5'119) == 5'120);
  CHECK(FirehoseBilledBytes(5'120) == 5'120);
  CHECK(FirehoseBilledBytes(5'121) == 10'240);
  CHECK(FirehoseBilledBytes(10'240) == 10'240);
  CHECK(FirehoseBilledBytes(1'024'000) == 1'024'000);  // Firehose's largest record: exactly 200 steps
}

}  // namespace
}  // namespace ferry
