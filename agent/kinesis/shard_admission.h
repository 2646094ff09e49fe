// ShardAdmission: the sender's gate for a Kinesis stream (delivery/send_gate.h): decides which ready
// requests may go now, given the per-shard rate limiter and, when asked for, one request at a time per
// shard. A lane is a predicted shard (WireRecord::lane); records without one are neither limited nor held.
// - rate_limit_percent: keeps each shard under that share of Kinesis's 1 MiB/s and 1,000 records/s
//   (ShardRateLimiter). A request waits until its shards have paid for what went before; every attempt,
//   retries too, is charged, since each uses the shard's throughput.
// - one_request_per_shard: a request waits while one of its shards has a request in flight or a failed
//   part waiting for its retry, so a shard's records are stored in the order they were queued, retried
//   ones before newer ones. The hole: when only some records of a request fail, Kinesis has already stored
//   the later records of that request, so the failed ones land after them. Without this option requests
//   to one shard overlap and may be stored in any order.
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

#include "agent/delivery/send_gate.h"
#include "agent/kinesis/shard_rate_limiter.h"

namespace ferry::kinesis {

class ShardAdmission : public SendGate {
 public:
  // rate_limit_percent: of each shard's write limits (0: no limit); one_request_per_shard: at most one
  // request in flight (or waiting to retry) per shard.
  ShardAdmission(std::uint32_t rate_limit_percent, bool one_request_per_shard);

  void BeginPass(std::uint64_t now_ms) override;
  Verdict Consider(const RequestLoad& load) override;
  bool pass_open() const override { return !barrier_; }
  // The shortest limiter delay seen in this pass; 0 if nothing was throttled.
  std::uint64_t delay() const override { return delay_; }

  // Charges the limiter, and the request's shards are busy until Free.
  void Sent(const RequestLoad& load, std::uint64_t now_ms) override;
  void Occupy(const RequestLoad& load) override;
  void Free(const RequestLoad& load) override;
  bool holds_lanes() const override { return one_request_per_shard_; }

  bool limited() const { return limiter_.enabled(); }
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

}  // namespace ferry::kinesis
