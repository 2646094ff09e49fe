// RequestCollector: gathers wire records into requests that respect a destination's limits
// (records and bytes per request, and per lane: WireRecord::lane, a Kinesis shard) and hands each full
// request to the sender. A request that does not fill is sent once its oldest record has waited max_age. Loop
// thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "agent/core/units.h"
#include "agent/core/wire_record.h"

namespace ferry {

struct RequestLimits {
  std::size_t max_records = 500;       // PutRecords: 500 records per request (AWS API reference)
  std::size_t max_bytes = 5ULL << 20;  // PutRecords: 5 MiB of data and partition keys per request
  // Per lane (0: none): Kinesis sets one second of a shard's rate limit, so a request that a rate-limited
  // sender lets go cannot alone exceed what the shard takes in a second.
  std::size_t max_lane_bytes = 0;
  std::size_t max_lane_records = 0;
};

class RequestCollector {
 public:
  using Flush = std::function<void(std::vector<WireRecord>&&)>;

  RequestCollector(uv_loop_t* loop, RequestLimits limits, Duration max_age, Flush flush);
  RequestCollector(const RequestCollector&) = delete;
  RequestCollector& operator=(const RequestCollector&) = delete;

  // Adds a record; the request in progress is flushed first if the record would break a limit.
  void Add(WireRecord record);
  // Sends what is collected now (shutdown, or a source that caught up).
  void FlushNow();
  // Closes the age timer; on_closed runs when it is closed.
  void Close(std::function<void()> on_closed);

  std::size_t pending_records() const { return records_.size(); }

 private:
  uv_timer_t timer_{};
  RequestLimits limits_;
  Duration max_age_;
  Flush flush_;
  // Whether record would take its lane past the per-lane limits of the request in progress.
  bool OverLaneLimit(const WireRecord& record) const;
  void CountLane(const WireRecord& record);

  std::vector<WireRecord> records_;
  std::size_t bytes_ = 0;
  struct LaneCount {
    std::string_view lane;  // a view into a record of records_
    std::size_t bytes = 0;
    std::size_t records = 0;
  };
  std::vector<LaneCount> lanes_;  // of the request in progress; few, so searched in order
};

}  // namespace ferry
