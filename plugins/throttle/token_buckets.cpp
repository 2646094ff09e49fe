// TokenBuckets: refill on use, LRU by splicing list nodes (a known key costs no allocation).
#include "plugins/throttle/token_buckets.h"

namespace ferry::plugins {

TokenBuckets::TokenBuckets(std::uint64_t rate, std::uint64_t per_ms, std::uint64_t burst,
                           std::size_t max_keys)
    : rate_(rate), cost_(per_ms), capacity_(burst * per_ms), max_keys_(max_keys) {
  index_.reserve(max_keys_ < 4096 ? max_keys_ : 4096);
}

TokenBuckets::Bucket& TokenBuckets::Find(std::uint64_t key, std::uint64_t now_ms) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    if (it->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second);
    return *it->second;
  }
  if (index_.size() >= max_keys_) {
    // Reuse the least recently used bucket's node for the new key.
    index_.erase(lru_.back().key);
    lru_.splice(lru_.begin(), lru_, std::prev(lru_.end()));
  } else {
    lru_.emplace_front();
  }
  Bucket& b = lru_.front();
  b = Bucket{key, capacity_, now_ms};
  index_.emplace(key, lru_.begin());
  return b;
}

bool TokenBuckets::Take(std::uint64_t key, std::uint64_t now_ms) {
  Bucket& b = Find(key, now_ms);
  if (now_ms > b.last_ms) {
    const std::uint64_t elapsed = now_ms - b.last_ms;
    const std::uint64_t room = capacity_ - b.balance;
    // elapsed * rate_ could overflow after a long pause; anything past the room only fills the bucket.
    b.balance = elapsed >= (room + rate_ - 1) / rate_ ? capacity_ : b.balance + elapsed * rate_;
    b.last_ms = now_ms;
  }
  if (b.balance < cost_) return false;
  b.balance -= cost_;
  return true;
}

}  // namespace ferry::plugins
