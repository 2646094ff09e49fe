// StreamPacker: turns a flow's records into Kinesis wire records and feeds them to the request collector.
//
// Each record gets its partition key (and the optional explicit hash key) from the flow's key policy. With
// aggregation on and a shard map loaded, records are packed into KPL aggregated records, one aggregator per
// predicted shard, so every sub-record of an aggregate belongs to the shard the aggregate lands on (the KCL
// drops sub-records of another shard). Without a map (not loaded yet, or ListShards failing) records go
// raw: a wrong prediction would lose data at the consumer, a raw record cannot. A lone record is sent raw,
// and so is a record too large to aggregate.
//
// Random keys: records only need to spread over the shards, and a sub-record's key serves nothing once it
// is inside an aggregate, so each shard's aggregator has one random key that hashes into its shard and
// every sub-record shares it. The key table then holds one key instead of one per record, and no record
// costs an MD5. Records fill one shard's aggregate at a time, moving round the shards, so aggregates leave
// full and the shards get equal shares.
//
// Before the first listing: the output may ask the packer to hold what it is given until the first shard map
// comes (WaitForShardMap), so a backlog read while ListShards is under way is aggregated from its first
// record rather than sent raw: one record per line costs a shard a thousandth of its records per second
// each, and the raw records a spool takes stay raw. Held batches stay charged to the memory budget, so a
// source stops reading once it is spent, and they wait only as long as the caller's first listing: it ends
// the wait with a map (packed) or without one (StopWaiting: raw). FlushNow (shutdown) sends them raw too.
//
// An aggregate is a batch of its own (its arena holds the encoded bytes) whose parents are the batches its
// records came from: acknowledging the aggregate acknowledges each of them (Batch::AddParent). Aggregates
// wait at most max_age for more records, and not at all once the memory budget is spent: no more records
// come until sending frees some. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/core/batch_sink.h"
#include "agent/core/memory_budget.h"
#include "agent/core/units.h"
#include "agent/delivery/request_collector.h"
#include "agent/kinesis/aggregator.h"
#include "agent/kinesis/hash_key.h"
#include "agent/kinesis/partition_key_policy.h"
#include "agent/kinesis/partition_keys.h"
#include "agent/kinesis/shard_map.h"

namespace ferry::kinesis {

// PutRecords limit on one record: data plus partition key (AWS API reference), unless the stream's
// MaxRecordSize was raised (up to 10 MiB; kinesis.max_record_size). Aggregates keep to it either way.
inline constexpr std::size_t kMaxRecordBytes = 1 << 20;
// PutRecords limit on one request to a stream that takes records over 1 MiB.
inline constexpr std::size_t kMaxLargeRequestBytes = 10 << 20;

struct PackingOptions {
  bool aggregate = true;
  AggregatorOptions limits;  // its record_newline is this struct's
  Duration max_age{500};     // an aggregate is handed on after this long at the latest
  // Every user record ends with '\n' (kinesis.record_newline): a raw record is copied once, with it, into
  // its batch's arena; an aggregate writes it after each record's data.
  bool record_newline = false;
};

struct PackerCounters {
  std::uint64_t user_records = 0;
  std::uint64_t aggregates = 0;          // aggregated Kinesis records made
  std::uint64_t aggregated_records = 0;  // user records inside them
  std::uint64_t raw_records = 0;         // user records sent as records of their own
  std::uint64_t user_bytes = 0;          // record data of user records (without record_newline's)
  std::uint64_t kinesis_bytes = 0;       // data of the Kinesis records made (aggregates and raw)
  std::uint64_t resent_records = 0;      // user records sent again after their aggregate was misplaced
};

class StreamPacker : public BatchSink {
 public:
  StreamPacker(uv_loop_t* loop, RequestCollector& collector, PartitionKeyPolicy keys, PackingOptions options,
               MemoryBudget* budget);
  ~StreamPacker() override;
  StreamPacker(const StreamPacker&) = delete;
  StreamPacker& operator=(const StreamPacker&) = delete;

  void Accept(BatchRef batch) override;

  // Holds what Accept gets from now on until the first SetShardMap or StopWaiting (see above). Only with
  // aggregation on and no map yet; otherwise it does nothing.
  void WaitForShardMap();
  // Ends the wait without a map: what was held goes raw, in the order it came, and so does what follows
  // until a map comes. Nothing when not waiting.
  void StopWaiting();
  bool waiting() const { return waiting_; }
  std::size_t held_records() const { return held_records_; }

  // Uses a new shard map; aggregates predicted with the old one are sent first. An empty map turns
  // aggregation off until a real one comes. Ends a wait: what was held is packed by this map.
  void SetShardMap(std::shared_ptr<const ShardMap> map);
  // Hands everything on now (shutdown): every aggregate, and what is held for a shard map, raw.
  void FlushNow();
  // An aggregate stored on another shard than predicted (the stream was resharded). Sub-records with a
  // shared key are in their shard's range wherever the aggregate went (they all hash like its outer key),
  // so it is acknowledged; sub-records with keys of their own are sent again one by one, raw (the KPL
  // does the same: a KCL consumer drops the misplaced copies, others see them twice).
  void Redirected(WireRecord&& aggregate);
  // Closes the age timer; on_closed runs when it is closed.
  void Close(std::function<void()> on_closed);

  const PackerCounters& counters() const { return counters_; }
  const ShardMap* shard_map() const { return map_.get(); }

 private:
  struct Slot {
    Aggregator aggregator;
    std::vector<std::pair<BatchRef, std::uint32_t>> parents;  // batches its records came from, in order
    std::uint64_t since = 0;                                  // loop time of its first record
    std::string key;                       // random keys: this shard's shared key (empty if none was found)
    std::uint64_t unaggregated_units = 0;  // its records' PUT payload units, each sent raw
  };

  // predicted: the shard the record goes to when the map says (so rate limits and order apply to it).
  void Raw(std::string_view data, std::string_view key, std::string_view hash_key, BatchRef batch,
           std::string_view predicted = {});
  std::string_view PredictedShard(const Slot& slot, Batch& batch);
  // Random keys with a shard map: into the current shard's aggregate under its shared key.
  void AddShared(const Record& record, const BatchRef& batch);
  void AddTo(Slot& slot, std::string_view key, std::string_view hash_key, const Record& record,
             const BatchRef& batch);
  void Flush(Slot& slot);
  void FlushSlots();
  void UseMap(std::shared_ptr<const ShardMap> map);
  // Ends a wait: the held batches go through Accept again, in order.
  void ReleaseHeld();
  void ArmTimer();
  void OnTimer();

  uv_loop_t* loop_;
  RequestCollector& collector_;
  PartitionKeyPolicy keys_;
  PackingOptions options_;
  MemoryBudget* budget_;
  int reliever_ = 0;  // its id in budget_
  std::shared_ptr<const ShardMap> map_;
  bool waiting_ = false;        // holding batches for the first map
  std::vector<BatchRef> held_;  // those batches, in arrival order
  std::size_t held_records_ = 0;
  std::vector<Slot> slots_;   // one per open shard of map_, in its order
  bool shared_keys_ = false;  // random keys, shared per shard (see above)
  std::size_t current_ = 0;   // the slot being filled with shared keys
  RandomPartitionKeys random_;
  std::optional<HashKey> fixed_hash_key_;
  uv_timer_t timer_{};
  bool timer_armed_ = false;
  PackerCounters counters_;
};

}  // namespace ferry::kinesis
