// CorrectedClock: wall time as the endpoint keeps it. AWS refuses a signature made more than 5 minutes off
// its own clock (InvalidSignatureException "Signature expired" / "not yet current"); an edge host's clock
// may drift further than that, or never have been set. When that happens the sender learns the endpoint's
// time from the refusal's Date header and every later request is signed with the host's time plus the
// difference. Loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "agent/core/clock.h"

namespace ferry {

class CorrectedClock : public Clock {
 public:
  explicit CorrectedClock(const Clock& base) : base_(base) {}

  std::int64_t UnixSeconds() const override { return base_.UnixSeconds() + offset_; }
  std::int64_t UnixMilliseconds() const override { return base_.UnixMilliseconds() + offset_ * 1000; }

  // The endpoint said it is server_unix_s now; returns the new offset (seconds to add to the host's time).
  std::int64_t Correct(std::int64_t server_unix_s) {
    offset_ = server_unix_s - base_.UnixSeconds();
    return offset_;
  }
  std::int64_t offset() const { return offset_; }

 private:
  const Clock& base_;
  std::int64_t offset_ = 0;
};

// An HTTP Date header (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") as unix seconds; nullopt for
// anything else (the obsolete formats included: AWS sends IMF-fixdate).
std::optional<std::int64_t> ParseHttpDate(std::string_view text);

}  // namespace ferry
