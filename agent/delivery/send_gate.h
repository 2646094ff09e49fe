// SendGate: what holds a sender's ready requests back, lane by lane (WireRecord::lane: where a destination
// keeps order and meters writes). The sender walks its ready queue oldest first in a pass (BeginPass, then
// Consider for each request) and sends what is admitted; it says what it sends (Sent), what waits for a
// retry (Occupy) and what is done (Free). This base admits everything, for destinations without lanes
// (Firehose); kinesis::ShardAdmission keeps Kinesis's per-shard write limits and order. Loop thread only.
#pragma once

#include <cstdint>

#include "agent/delivery/request_load.h"

namespace ferry {

class SendGate {
 public:
  enum class Verdict {
    kGo,         // send it now (then call Sent)
    kBehind,     // an earlier held-back request shares a lane with it
    kLaneBusy,   // one of its lanes has a request in flight or a retry waiting
    kThrottled,  // one of its lanes is over its rate (see delay())
  };

  virtual ~SendGate() = default;

  virtual void BeginPass(std::uint64_t /*now_ms*/) {}
  // For each ready request of the pass, oldest first. The loads considered in a pass must stay alive and
  // unchanged until the pass ends (the next BeginPass).
  virtual Verdict Consider(const RequestLoad& /*load*/) { return Verdict::kGo; }
  // Whether anything later in this pass could still be admitted.
  virtual bool pass_open() const { return true; }
  // The shortest delay until a throttled request of this pass may go; 0 if nothing was throttled.
  virtual std::uint64_t delay() const { return 0; }

  // A request is being sent (every attempt, retries too).
  virtual void Sent(const RequestLoad& /*load*/, std::uint64_t /*now_ms*/) {}
  // Marks a load's lanes busy (a failed part waiting to be retried) or frees them again.
  virtual void Occupy(const RequestLoad& /*load*/) {}
  virtual void Free(const RequestLoad& /*load*/) {}
  // Whether a request's lanes stay busy while it is out, so Free needs its load (else any load will do).
  virtual bool holds_lanes() const { return false; }
};

}  // namespace ferry
