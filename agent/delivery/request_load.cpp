// RequestLoad: records summed per lane.
#include "agent/delivery/request_load.h"

#include <algorithm>

namespace ferry {

RequestLoad RequestLoad::Of(std::span<const WireRecord> records) {
  RequestLoad load;
  for (const WireRecord& r : records) {
    if (r.lane.empty()) {
      load.any_lane = true;
    } else {
      load.lanes.push_back(LaneLoad{r.lane, r.size(), 1});
    }
  }
  std::sort(load.lanes.begin(), load.lanes.end(),
            [](const LaneLoad& a, const LaneLoad& b) { return a.lane < b.lane; });
  std::vector<LaneLoad> merged;
  for (const LaneLoad& s : load.lanes) {
    if (!merged.empty() && merged.back().lane == s.lane) {
      merged.back().bytes += s.bytes;
      merged.back().records += s.records;
    } else {
      merged.push_back(s);
    }
  }
  load.lanes = std::move(merged);
  return load;
}

}  // namespace ferry
