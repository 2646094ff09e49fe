// SendAdmission: the pass over the ready queue, busy shards and the limiter.
#include "agent/delivery/send_admission.h"

#include <algorithm>

namespace ferry {

SendAdmission::SendAdmission(std::uint32_t rate_limit_percent, bool one_request_per_shard)
    : limiter_(rate_limit_percent), one_request_per_shard_(one_request_per_shard) {}

void SendAdmission::BeginPass(std::uint64_t now_ms) {
  now_ms_ = now_ms;
  held_.clear();
  barrier_ = false;
  delay_ = 0;
}

bool SendAdmission::Shares(const RequestLoad& load) const {
  if (load.unpredicted) return !held_.empty();
  return std::any_of(load.shards.begin(), load.shards.end(),
                     [this](const ShardLoad& s) { return held_.contains(s.shard); });
}

bool SendAdmission::Busy(const RequestLoad& load) const {
  return one_request_per_shard_ &&
         std::any_of(load.shards.begin(), load.shards.end(),
                     [this](const ShardLoad& s) { return busy_.contains(s.shard); });
}

void SendAdmission::Hold(const RequestLoad& load) {
  for (const ShardLoad& s : load.shards) held_.insert(s.shard);
  if (load.unpredicted) barrier_ = true;
}

SendAdmission::Verdict SendAdmission::Consider(const RequestLoad& load) {
  Verdict verdict = Verdict::kGo;
  if (barrier_ || Shares(load)) {
    verdict = Verdict::kBehind;
  } else if (Busy(load)) {
    verdict = Verdict::kShardBusy;
  } else if (std::uint64_t wait = limiter_.DelayFor(load, now_ms_); wait > 0) {
    verdict = Verdict::kThrottled;
    delay_ = delay_ == 0 ? wait : std::min(delay_, wait);
  }
  if (verdict != Verdict::kGo) Hold(load);
  return verdict;
}

void SendAdmission::Sent(const RequestLoad& load, std::uint64_t now_ms) {
  limiter_.Charge(load, now_ms);
  Occupy(load);
}

void SendAdmission::Occupy(const RequestLoad& load) {
  if (!one_request_per_shard_) return;
  for (const ShardLoad& s : load.shards) {
    auto it = busy_.find(s.shard);
    if (it == busy_.end()) it = busy_.emplace(std::string(s.shard), 0).first;
    ++it->second;
  }
}

void SendAdmission::Free(const RequestLoad& load) {
  if (!one_request_per_shard_) return;
  for (const ShardLoad& s : load.shards) {
    auto it = busy_.find(s.shard);
    if (it != busy_.end() && --it->second == 0) busy_.erase(it);
  }
}

}  // namespace ferry
