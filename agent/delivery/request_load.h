// RequestLoad: what one request writes to each lane (WireRecord::lane: where a destination keeps order
// and meters writes, a Kinesis shard), for a SendGate to weigh. Records without a lane may land in any.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "agent/core/wire_record.h"

namespace ferry {

// What one request writes to one lane.
struct LaneLoad {
  std::string_view lane;  // a view into the request's records
  std::uint64_t bytes = 0;
  std::uint64_t records = 0;
};

// What one request writes, per lane (sorted by lane, one entry each).
struct RequestLoad {
  std::vector<LaneLoad> lanes;
  bool any_lane = false;  // some records have no lane (they may land in any)

  static RequestLoad Of(std::span<const WireRecord> records);
};

}  // namespace ferry
