// StreamOptions: what a flow's `kinesis:` section says, as the Kinesis output reads it. The config's field
// tables (config/destination_fields.cpp) map YAML keys onto these members, so each default lives here
// once and `ferry check --keys` shows it.
#pragma once

#include <cstdint>
#include <string>

#include "agent/core/units.h"
#include "agent/delivery/payload_compression.h"

namespace ferry::kinesis {

// How records get their partition keys (partition_key_policy.h has the rules of each kind).
struct PartitionKeyOptions {
  enum class Kind {
    kRandom,     // 16 random hex digits per record: spreads records evenly over the shards
    kTemplate,   // `text` with ${hostname}, ${flow} and ${file} replaced; no ${...} at all: a fixed key
    kJsonField,  // the string or number at the dotted path `text` of a record that is a JSON object
    kRegex,      // the capture of an RE2 pattern, searched for anywhere in the record
    kDataMd5,    // the MD5 of the record's bytes in hex (the Kinesis Agent's DETERMINISTIC)
  };
  Kind kind = Kind::kRandom;
  std::string text;  // the template, the field path, or the regex
  // Used when the field or capture is missing or cannot be a key: "random", or a template.
  std::string fallback = "random";
};

struct StreamOptions {
  std::string stream;
  Duration max_age{1000};  // a record waits at most this long before its request is sent
  PartitionKeyOptions partition_key;
  std::string explicit_hash_key;                 // decimal; empty: none
  bool aggregate = true;                         // KPL aggregation per predicted shard
  std::uint64_t aggregate_max_bytes = 50 << 10;  // the KPL's default
  std::uint64_t aggregate_max_records = 1000;
  Duration shard_map_refresh{60000};  // ListShards again this often (and when a prediction was wrong)
  // PutRecords bodies in JSON 1.1 or CBOR 1.1; auto: CBOR at AWS's own endpoints, JSON at any other URL
  // (emulators such as kinesalite store CBOR record data wrongly).
  enum class Protocol { kAuto, kJson, kCbor };
  Protocol protocol = Protocol::kAuto;
  Compression compression = Compression::kNone;
  std::uint64_t rate_limit = 100;           // percent of each shard's write limits; 0: no limiting
  std::uint64_t max_record_size = 1 << 20;  // the stream's MaxRecordSize (1 MiB unless raised, up to 10)
  bool one_request_per_shard = false;       // keeps each shard's records in order
  // Each user record's data ends with '\n', inside an aggregate too (the Kinesis Agent's records did), so
  // a consumer that joins records gets lines; the newline counts against the record limits.
  bool record_newline = false;
};

}  // namespace ferry::kinesis
