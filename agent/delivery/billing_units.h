// Billing units: what AWS bills per acknowledged record, so `ferry status` and the metrics can show what a
// flow costs and what it would have cost at one record per line. Kinesis Data Streams bills PUT payload
// units of 25 KiB (25,600 bytes) of each record's data, at least one per record; Firehose bills each
// record's data rounded up to the next 5 KB (5,120 bytes), at least 5 KB (AWS pricing pages for both
// services). Only the data blob counts, not a Kinesis partition key: the pricing speaks of the payload.
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry {

inline constexpr std::uint64_t kKinesisPayloadUnitBytes = 25'600;
inline constexpr std::uint64_t kFirehoseBillingStepBytes = 5'120;

// PUT payload units for one Kinesis record of data_bytes: ceil(data_bytes / 25,600), at least 1.
std::uint64_t KinesisPayloadUnits(std::size_t data_bytes);
// Bytes Firehose bills for one record of data_bytes: data_bytes rounded up to a multiple of 5,120, at
// least 5,120.
std::uint64_t FirehoseBilledBytes(std::size_t data_bytes);

// One of the two above: how an output's sender counts what its acknowledged records cost.
using BillingRule = std::uint64_t (*)(std::size_t data_bytes);

}  // namespace ferry
