// ShardRateLimiter: keeps the sender under Kinesis's per-shard write limits (1 MiB/s and 1,000 records/s,
// beyond which PutRecords answers ProvisionedThroughputExceededException), scaled by a percentage. One
// token bucket per predicted shard (WireRecord::lane), two dimensions (bytes, records), each holding one
// second's worth.
//
// A request may go once every shard it touches holds its cost, so no second ever carries more than a
// bucket plus its refill (what Kinesis meters). A request larger than a bucket (the collector's
// per-shard cap prevents this unless one record is that large) waits for a full bucket, goes, and leaves
// a debt the shard pays back before its next request: nothing can wait forever. Records without a
// predicted shard are not limited. Time is the caller's loop time in milliseconds, so tests drive it. Loop
// thread only.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/wire_record.h"
#include "agent/delivery/request_load.h"

namespace ferry::kinesis {

class ShardRateLimiter {
 public:
  static constexpr std::uint64_t kShardBytesPerSecond = 1 << 20;  // Kinesis: 1 MiB/s per shard
  static constexpr std::uint64_t kShardRecordsPerSecond = 1000;   // Kinesis: 1,000 records/s per shard
  // Full buckets of shards unused this long are dropped (a resharded stream retires its old shards).
  static constexpr std::uint64_t kForgetAfterMs = 60000;
  static constexpr std::uint32_t kMaxPercent = 10000;  // larger values are clamped (keeps the math in range)

  // percent of the shard limits; 0 turns limiting off.
  explicit ShardRateLimiter(std::uint32_t percent);

  bool enabled() const { return percent_ != 0; }
  // Milliseconds until the request may go: 0 when every shard it touches holds its cost.
  std::uint64_t DelayFor(const RequestLoad& load, std::uint64_t now_ms) const;
  std::uint64_t DelayFor(std::span<const WireRecord> records, std::uint64_t now_ms) const;
  // Debits a request that is being sent (again, for a retry: it uses the shard's throughput again).
  void Charge(const RequestLoad& load, std::uint64_t now_ms);
  void Charge(std::span<const WireRecord> records, std::uint64_t now_ms);

  std::size_t tracked_shards() const { return buckets_.size(); }

 private:
  // Balances are in units of 1/100000 byte or record (1/1000 for the millisecond, 1/100 for the percent),
  // so a millisecond refills exactly limit * percent of them: integer math, no rounding drift.
  static constexpr std::int64_t kScale = 100000;

  struct Dimension {
    std::int64_t per_ms = 0;    // refill per millisecond
    std::int64_t capacity = 0;  // one second's worth
    // The balance `elapsed_ms` after it was `balance`.
    std::int64_t Refilled(std::int64_t balance, std::uint64_t elapsed_ms) const;
    // Milliseconds until `balance` holds cost (in bytes or records), or the whole bucket if cost is more.
    std::uint64_t TimeToCover(std::int64_t balance, std::uint64_t cost) const;
  };
  struct Bucket {
    std::int64_t bytes = 0;
    std::int64_t records = 0;
    std::uint64_t updated_ms = 0;  // loop time of the balances above (the last charge)
  };

  void ForgetIdle(std::uint64_t now_ms);

  std::uint32_t percent_ = 0;
  Dimension bytes_;
  Dimension records_;
  std::map<std::string, Bucket, std::less<>> buckets_;  // absent = full
  std::uint64_t swept_ms_ = 0;
};

}  // namespace ferry::kinesis
