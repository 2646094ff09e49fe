// TokenBuckets: one token bucket per key, for the throttle plugin. Each bucket holds up to `burst`
// records, refills at `rate` records per `per_ms` milliseconds and starts full; a record passes when its
// key's bucket holds a whole token. Balances are kept in 1/per_ms of a record, so a millisecond adds
// exactly `rate` of them: integer math, no drift.
//
// At most max_keys buckets are kept: a new key past that evicts the least recently used one (whose key
// then starts again with a full bucket). Keys are told apart by their 64-bit hash. Time is the caller's
// (milliseconds on any monotonic clock), so tests drive it. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

namespace ferry::plugins {

class TokenBuckets {
 public:
  // rate, burst >= 1; per_ms >= 1; max_keys >= 1. rate, burst <= 1e9 and per_ms <= 1 hour keep the math
  // in 64 bits.
  TokenBuckets(std::uint64_t rate, std::uint64_t per_ms, std::uint64_t burst, std::size_t max_keys);

  // Takes one token from key's bucket at now_ms; false when it holds less than one.
  bool Take(std::uint64_t key, std::uint64_t now_ms);

  std::size_t tracked_keys() const { return index_.size(); }

 private:
  struct Bucket {
    std::uint64_t key = 0;
    std::uint64_t balance = 0;  // in 1/per_ms records
    std::uint64_t last_ms = 0;
  };
  Bucket& Find(std::uint64_t key, std::uint64_t now_ms);

  std::uint64_t rate_;
  std::uint64_t cost_;      // one record: per_ms
  std::uint64_t capacity_;  // burst * per_ms
  std::size_t max_keys_;
  std::list<Bucket> lru_;  // most recently used first
  std::unordered_map<std::uint64_t, std::list<Bucket>::iterator> index_;
};

}  // namespace ferry::plugins
