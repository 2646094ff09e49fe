// TopSnapshot: the figures `ferry top` takes from one status reply (the document status_report.h writes):
// the daemon's facts and, per flow, the counters it turns into rates and the files with their lag.
// A pure value; ParseTopSnapshot is a function of its text alone. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace ferry {

struct TopFileSnapshot {
  std::string path;
  std::uint64_t bytes_behind = 0;
};

struct TopFlowSnapshot {
  std::string name;
  std::uint64_t records_read = 0;  // counter records_read: lines (records) the source read
  std::uint64_t records_sent = 0;  // counter records_sent: user records the endpoint acknowledged
  std::uint64_t bytes_behind = 0;  // counter bytes_behind: what the flow's files hold beyond its offsets
  std::optional<std::uint64_t> spool_bytes;  // counter spool_bytes; none: the flow has no spool
  std::uint64_t retries = 0;                 // counter records_retried
  std::uint64_t errors = 0;                  // the endpoint's errors, summed over every code
  std::vector<TopFileSnapshot> files;
};

struct TopSnapshot {
  std::string version;
  long pid = 0;
  double uptime_seconds = 0;               // the daemon's own clock: rates are measured against it
  std::string region;                      // empty when the reply has none
  std::optional<std::uint64_t> rss_bytes;  // not in the reply: the caller reads it from /proc, if it can
  std::vector<TopFlowSnapshot> flows;
};

// kProtocol when json is not a JSON object. As `ferry status` does, a missing or mistyped key reads as
// zero (or empty), so a daemon of another version still shows what it has.
Result<TopSnapshot> ParseTopSnapshot(std::string_view json);

}  // namespace ferry
