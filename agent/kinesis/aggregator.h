// Aggregator: packs user records bound for one predicted shard into one KPL aggregated record, the format
// the Kinesis Producer Library writes and the KCL and AWS's deaggregators read
// (amazon-kinesis-producer/aggregation-format.md): magic F3 89 9A C2, a protobuf AggregatedRecord, and the
// MD5 of those protobuf bytes.
//
// Records are held as views: Add copies nothing, and the caller keeps each record's data and keys alive
// (its BatchRefs) until Finish has run or Reset drops them. Finish writes the aggregate into a buffer the
// caller sized with encoded_bytes() -- typically arena memory that then backs the outgoing WireRecord -- so a
// record's bytes are copied once, from its batch straight into the aggregate.
//
// A lone record is not worth aggregating (20 bytes of framing, and consumers would see a subsequence number
// for nothing): when records() == 1 the caller sends first_data() raw with the first keys. The aggregate
// itself goes out under the first record's partition key and explicit hash key (what the KPL does); every
// record in it was predicted for the shard those keys route to. Not thread-safe; the packer's loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/core/result.h"

namespace ferry::kinesis {

struct AggregatorOptions {
  // Most bytes one aggregate counts against PutRecords' per-record limit: its encoded data plus its outer
  // partition key, the way PutRecords counts a record. 50 KiB is the KPL's AggregationMaxSize default; at
  // most the stream's record limit (kMaxRecordBytes, 1 MiB), which the config checks.
  std::size_t max_bytes = 50 * 1024;
  // Most user records in one aggregate. The KPL sets no count limit; tiny lines would then pack by the
  // thousand, and one throttled PutRecords entry re-sends all of them.
  std::size_t max_records = 1000;
  // Each record's data is written with a '\n' after it (kinesis.record_newline); the byte counts in
  // Fits and encoded_bytes, and first_data() and ForEachRecord give the data without it.
  bool record_newline = false;
};

class Aggregator {
 public:
  // Magic number before the protobuf and MD5 after it (aggregation-format.md).
  static constexpr std::size_t kMagicBytes = 4;
  static constexpr std::size_t kChecksumBytes = 16;

  explicit Aggregator(AggregatorOptions options = {}) : options_(options) {}

  // Whether one more record keeps the aggregate within max_records and max_bytes. Exact: it counts the
  // varints and the key tables as Finish will write them (a key already in a table costs only its index).
  // An empty aggregator may still say no, for a record too big to aggregate alone; send that one raw.
  bool Fits(std::string_view partition_key, std::string_view explicit_hash_key, std::size_t data_bytes) const;

  // Appends a record; an empty explicit_hash_key means none. Call Fits first: Add does not check limits.
  // The views must stay valid until Finish or Reset.
  void Add(std::string_view partition_key, std::string_view explicit_hash_key, std::string_view data);

  std::size_t records() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  // Size of the aggregate Finish writes: magic, protobuf, checksum.
  std::size_t encoded_bytes() const { return kMagicBytes + protobuf_bytes_ + kChecksumBytes; }

  // The first record's keys and data (empty views when the aggregator is empty): the outer record's
  // partition key and explicit hash key (none when empty), and the data to send raw when records() == 1.
  std::string_view first_partition_key() const;
  std::string_view first_explicit_hash_key() const;
  std::string_view first_data() const;

  // Writes the aggregate into out, which must be exactly encoded_bytes() long. Fails only if out has
  // another size or libcrypto refuses MD5 (a FIPS-only build); out's contents are then unspecified.
  Status Finish(std::span<char> out) const;
  // Appends the aggregate to out; on failure out is left as it was.
  Status Finish(std::string& out) const;

  // Forgets every record, keeping allocated capacity for the next aggregate.
  void Reset();

  // Calls f(partition_key, data) for each record, in order (to keep them for sending again one by one).
  template <typename F>
  void ForEachRecord(F&& f) const {
    for (const Entry& e : records_) f(partition_keys_[e.partition_key_index], e.data);
  }

 private:
  static constexpr std::uint32_t kNoIndex = UINT32_MAX;

  struct Entry {
    std::string_view data;
    std::uint32_t partition_key_index;
    std::uint32_t explicit_hash_key_index;  // kNoIndex: the record has none
  };

  // What adding one record would cost and which table entries it would use.
  struct Cost {
    std::size_t bytes = 0;  // protobuf bytes added: new key table entries plus the tagged Record
    std::uint32_t partition_key_index = 0;
    std::uint32_t explicit_hash_key_index = kNoIndex;
    bool new_partition_key = false;
    bool new_explicit_hash_key = false;
  };
  Cost Measure(std::string_view partition_key, std::string_view explicit_hash_key,
               std::size_t data_bytes) const;
  std::size_t NewlineBytes() const { return options_.record_newline ? 1 : 0; }

  AggregatorOptions options_;
  std::vector<std::string_view> partition_keys_;  // the tables, in first-use order
  std::vector<std::string_view> explicit_hash_keys_;
  std::unordered_map<std::string_view, std::uint32_t> partition_key_index_;
  std::unordered_map<std::string_view, std::uint32_t> explicit_hash_key_index_;
  std::vector<Entry> records_;
  std::size_t protobuf_bytes_ = 0;
};

}  // namespace ferry::kinesis
