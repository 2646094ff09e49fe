// ServiceStatusLine: the one-line summary the daemon gives systemd as STATUS= (shown by `systemctl
// status`), e.g. "3 flows; 12.3k lines/s read; 0 B behind; spool 0 B". The read rate is over the time
// since the previous line, so the caller keeps one ServiceStatusLine and asks it at a steady pace. Time
// comes from the caller (loop milliseconds). Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ferry {

class Flow;

// The daemon's totals over its flows.
struct ServiceFigures {
  std::size_t flows = 0;
  std::uint64_t records_read = 0;
  std::uint64_t bytes_behind = 0;
  std::uint64_t spool_bytes = 0;
};
ServiceFigures SumServiceFigures(const std::vector<const Flow*>& flows);

class ServiceStatusLine {
 public:
  // The line for `now`; the first one (no rate yet) and one after the counters went back (the flows were
  // replaced) say 0 lines/s.
  std::string Next(const ServiceFigures& figures, std::uint64_t now_ms);

 private:
  std::optional<std::uint64_t> last_records_;
  std::uint64_t last_ms_ = 0;
};

}  // namespace ferry
