// ServiceStatusLine: totals from the flows' named counters, and the rate between two calls.
#include "agent/ops/service_status_line.h"

#include <fmt/format.h>

#include "agent/ops/send_report.h"
#include "agent/pipeline/flow.h"

namespace ferry {

ServiceFigures SumServiceFigures(const std::vector<const Flow*>& flows) {
  ServiceFigures figures;
  figures.flows = flows.size();
  for (const Flow* flow : flows) {
    for (const auto& [name, value] : flow->Counters()) {
      if (name == "records_read") {
        figures.records_read += value;
      } else if (name == "bytes_behind") {
        figures.bytes_behind += value;
      } else if (name == "spool_bytes") {
        figures.spool_bytes += value;
      }
    }
  }
  return figures;
}

std::string ServiceStatusLine::Next(const ServiceFigures& figures, std::uint64_t now_ms) {
  double rate = 0;
  if (last_records_ && figures.records_read >= *last_records_ && now_ms > last_ms_) {
    rate = static_cast<double>(figures.records_read - *last_records_) * 1000.0 /
           static_cast<double>(now_ms - last_ms_);
  }
  last_records_ = figures.records_read;
  last_ms_ = now_ms;
  return fmt::format("{} flow{}; {} lines/s read; {} behind; spool {}", figures.flows,
                     figures.flows == 1 ? "" : "s", HumanCount(rate),
                     HumanBytes(static_cast<double>(figures.bytes_behind)),
                     HumanBytes(static_cast<double>(figures.spool_bytes)));
}

}  // namespace ferry
