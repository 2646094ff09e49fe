// ShardRateLimiter: the token buckets, in exact integer units.
#include "agent/kinesis/shard_rate_limiter.h"

#include <algorithm>

namespace ferry::kinesis {

ShardRateLimiter::ShardRateLimiter(std::uint32_t percent) : percent_(std::min(percent, kMaxPercent)) {
  bytes_.per_ms = static_cast<std::int64_t>(kShardBytesPerSecond * percent_);
  bytes_.capacity = bytes_.per_ms * 1000;
  records_.per_ms = static_cast<std::int64_t>(kShardRecordsPerSecond * percent_);
  records_.capacity = records_.per_ms * 1000;
}

std::int64_t ShardRateLimiter::Dimension::Refilled(std::int64_t balance, std::uint64_t elapsed_ms) const {
  if (balance >= capacity) return capacity;
  // Compared before multiplying: a long idle time times the rate could overflow.
  const auto fill_ms = static_cast<std::uint64_t>((capacity - balance + per_ms - 1) / per_ms);
  if (elapsed_ms >= fill_ms) return capacity;
  return balance + static_cast<std::int64_t>(elapsed_ms) * per_ms;
}

std::uint64_t ShardRateLimiter::Dimension::TimeToCover(std::int64_t balance, std::uint64_t cost) const {
  const std::int64_t target = std::min(static_cast<std::int64_t>(cost) * kScale, capacity);
  if (balance >= target) return 0;
  return static_cast<std::uint64_t>((target - balance + per_ms - 1) / per_ms);
}

std::uint64_t ShardRateLimiter::DelayFor(const RequestLoad& load, std::uint64_t now_ms) const {
  if (!enabled()) return 0;
  std::uint64_t delay = 0;
  for (const LaneLoad& s : load.lanes) {
    auto it = buckets_.find(s.lane);
    if (it == buckets_.end()) continue;  // full
    const Bucket& b = it->second;
    const std::uint64_t elapsed = now_ms > b.updated_ms ? now_ms - b.updated_ms : 0;
    delay = std::max({delay, bytes_.TimeToCover(bytes_.Refilled(b.bytes, elapsed), s.bytes),
                      records_.TimeToCover(records_.Refilled(b.records, elapsed), s.records)});
  }
  return delay;
}

std::uint64_t ShardRateLimiter::DelayFor(std::span<const WireRecord> records, std::uint64_t now_ms) const {
  return enabled() ? DelayFor(RequestLoad::Of(records), now_ms) : 0;
}

void ShardRateLimiter::Charge(const RequestLoad& load, std::uint64_t now_ms) {
  if (!enabled()) return;
  for (const LaneLoad& s : load.lanes) {
    auto it = buckets_.find(s.lane);
    if (it == buckets_.end()) {
      it = buckets_.emplace(std::string(s.lane), Bucket{bytes_.capacity, records_.capacity, now_ms}).first;
    }
    Bucket& b = it->second;
    const std::uint64_t elapsed = now_ms > b.updated_ms ? now_ms - b.updated_ms : 0;
    b.bytes = bytes_.Refilled(b.bytes, elapsed) - static_cast<std::int64_t>(s.bytes) * kScale;
    b.records = records_.Refilled(b.records, elapsed) - static_cast<std::int64_t>(s.records) * kScale;
    b.updated_ms = std::max(b.updated_ms, now_ms);
  }
  ForgetIdle(now_ms);
}

void ShardRateLimiter::Charge(std::span<const WireRecord> records, std::uint64_t now_ms) {
  if (enabled()) Charge(RequestLoad::Of(records), now_ms);
}

void ShardRateLimiter::ForgetIdle(std::uint64_t now_ms) {
  // A full bucket is the same as no bucket, so forgetting one changes nothing but memory; sweeping once
  // per idle period keeps the cost off the per-request path.
  if (now_ms < swept_ms_ + kForgetAfterMs && swept_ms_ != 0) return;
  swept_ms_ = now_ms;
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    if (now_ms < b.updated_ms + kForgetAfterMs) return false;
    const std::uint64_t elapsed = now_ms - b.updated_ms;
    return bytes_.Refilled(b.bytes, elapsed) == bytes_.capacity &&
           records_.Refilled(b.records, elapsed) == records_.capacity;
  });
}

}  // namespace ferry::kinesis
