// ShardAdmission: the pass over the ready queue, busy shards and the limiter.
#include "agent/kinesis/shard_admission.h"

#include <algorithm>

namespace ferry::kinesis {

ShardAdmission::ShardAdmission(std::uint32_t rate_limit_percent, bool one_request_per_shard)
    : limiter_(rate_limit_percent), one_request_per_shard_(one_request_per_shard) {}

void ShardAdmission::BeginPass(std::uint64_t now_ms) {
  now_ms_ = now_ms;
  held_.clear();
  barrier_ = false;
  delay_ = 0;
}

bool ShardAdmission::Shares(const RequestLoad& load) const {
  if (load.any_lane) return !held_.empty();
  return std::any_of(load.lanes.begin(), load.lanes.end(),
                     [this](const LaneLoad& s) { return held_.contains(s.lane); });
}

bool ShardAdmission::Busy(const RequestLoad& load) const {
  return one_request_per_shard_ && std::any_of(load.lanes.begin(), load.lanes.end(),
                                               [this](const LaneLoad& s) { return busy_.contains(s.lane); });
}

void ShardAdmission::Hold(const RequestLoad& load) {
  for (const LaneLoad& s : load.lanes) held_.insert(s.lane);
  if (load.any_lane) barrier_ = true;
}

ShardAdmission::Verdict ShardAdmission::Consider(const RequestLoad& load) {
  Verdict verdict = Verdict::kGo;
  if (barrier_ || Shares(load)) {
    verdict = Verdict::kBehind;
  } else if (Busy(load)) {
    verdict = Verdict::kLaneBusy;
  } else if (std::uint64_t wait = limiter_.DelayFor(load, now_ms_); wait > 0) {
    verdict = Verdict::kThrottled;
    delay_ = delay_ == 0 ? wait : std::min(delay_, wait);
  }
  if (verdict != Verdict::kGo) Hold(load);
  return verdict;
}

void ShardAdmission::Sent(const RequestLoad& load, std::uint64_t now_ms) {
  limiter_.Charge(load, now_ms);
  Occupy(load);
}

void ShardAdmission::Occupy(const RequestLoad& load) {
  if (!one_request_per_shard_) return;
  for (const LaneLoad& s : load.lanes) {
    auto it = busy_.find(s.lane);
    if (it == busy_.end()) it = busy_.emplace(std::string(s.lane), 0).first;
    ++it->second;
  }
}

void ShardAdmission::Free(const RequestLoad& load) {
  if (!one_request_per_shard_) return;
  for (const LaneLoad& s : load.lanes) {
    auto it = busy_.find(s.lane);
    if (it != busy_.end() && --it->second == 0) busy_.erase(it);
  }
}

}  // namespace ferry::kinesis
