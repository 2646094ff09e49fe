// SendAdmission: decides which of the sender's ready requests may go now, given the per-shard rate
// limiter and, when asked for, one request at a time per shard. The sender walks its ready queue oldest
// first in a pass (BeginPass, then Consider for each request) and sends what is admitted.
//
// Overtaking: a request held back (its shard busy or over its rate) holds back every later request that
// shares a shard with it, so the queue keeps per-shard order, the only order Kinesis keeps. Later requests
// on other shards may go past it: with strict FIFO the hottest shard would set the pace of all of them. A
// request with records of no predicted shard may share a shard with anything, so it neither overtakes nor,
// once held back, is overtaken. Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "agent/delivery/shard_rate_limiter.h"

namespace ferry {

class SendAdmission {
 public:
  SendAdmission(std::uint32_t rate_limit_percent, bool one_request_per_shard);

  enum class Verdict {
    kGo,         // send it now (then call Sent)
    kBehind,     // an earlier held-back request shares a shard with it
    kShardBusy,  // one of its shards has a request in flight or a retry waiting
    kThrottled,  // one of its shards is over its rate (see delay())
  };

  void BeginPass(std::uint64_t now_ms);
  // For each ready request of the pass, oldest first. The loads considered in a pass must stay alive and
  // unchanged until the pass ends (the next BeginPass).
  Verdict Consider(const RequestLoad& load);
  // Whether anything later in this pass could still be admitted.
  bool pass_open() const { return !barrier_; }
  // The shortest limiter delay seen in this pass; 0 if nothing was throttled.
  std::uint64_t delay() const { return delay_; }

  // A request is being sent: charges the limiter, and its shards are busy until Free.
  void Sent(const RequestLoad& load, std::uint64_t now_ms);
  // Marks a load's shards busy (a failed part waiting to be retried) or frees them again.
  void Occupy(const RequestLoad& load);
  void Free(const RequestLoad& load);

  bool limited() const { return limiter_.enabled(); }
  bool per_shard() const { return one_request_per_shard_; }
  // Shards with a request in flight or a retry waiting (one_request_per_shard only).
  std::size_t busy_shards() const { return busy_.size(); }

 private:
  bool Shares(const RequestLoad& load) const;
  bool Busy(const RequestLoad& load) const;
  void Hold(const RequestLoad& load);

  ShardRateLimiter limiter_;
  bool one_request_per_shard_;
  std::map<std::string, std::uint32_t, std::less<>> busy_;  // shard -> requests holding it

  // The current pass.
  std::uint64_t now_ms_ = 0;
  std::set<std::string_view> held_;  // shards of requests held back so far
  bool barrier_ = false;             // a held-back request may share a shard with anything
  std::uint64_t delay_ = 0;
};

}  // namespace ferry
