// ShardMap: which open shard of a stream a hash key lands on, built from a ListShards listing, so the
// packer can aggregate records per predicted shard (the KCL drops a whole aggregate whose sub-records
// belong to another shard). A prediction, not a promise: the stream may be resharded at any time, and
// the map is then rebuilt and replaced (see generation()).
//
// Immutable once built: share it read-only between threads, or replace it whole.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "agent/kinesis/hash_key.h"

namespace ferry::kinesis {

// One shard as ListShards describes it.
struct Shard {
  std::string id;    // ShardId, e.g. "shardId-000000000003"
  HashKey start;     // HashKeyRange.StartingHashKey, inclusive
  HashKey end;       // HashKeyRange.EndingHashKey, inclusive
  bool open = true;  // no SequenceNumberRange.EndingSequenceNumber: still accepts records
};

class ShardMap {
 public:
  // An empty map (generation 0): ShardFor finds nothing. Stands for "no listing yet".
  ShardMap() = default;

  // Keeps the open shards and drops the closed ones: while a stream is resharded, ListShards shows
  // closed parents next to their open children, and only the children take records. The open shards
  // must cover 0..2^128-1 exactly once, each with start <= end; otherwise a kProtocol error names the
  // first gap or overlap, or the shard whose range is reversed. `generation` is the caller's number
  // for this listing; give each replacement a larger one.
  static Result<ShardMap> Build(std::vector<Shard> shards, std::uint64_t generation);

  // The open shard whose range holds key; nullptr only for the empty map.
  const Shard* ShardFor(HashKey key) const;

  // The open shards, in hash key order.
  std::span<const Shard> open_shards() const { return shards_; }
  std::uint64_t generation() const { return generation_; }

 private:
  std::vector<Shard> shards_;  // open only, sorted by start, covering every key once
  std::uint64_t generation_ = 0;
};

}  // namespace ferry::kinesis
