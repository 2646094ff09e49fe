// RequestCollector: gathers wire records into requests that respect a destination's limits
// (records per request, bytes per request) and hands each full request to the sender. A request that
// does not fill is sent once its oldest record has waited max_age. Loop thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <vector>

#include "agent/core/units.h"
#include "agent/delivery/wire_record.h"

namespace ferry {

struct RequestLimits {
  std::size_t max_records = 500;       // PutRecords: 500 records per request (AWS API reference)
  std::size_t max_bytes = 5ULL << 20;  // PutRecords: 5 MiB of data and partition keys per request
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
  std::vector<WireRecord> records_;
  std::size_t bytes_ = 0;
  std::function<void()> on_closed_;
};

}  // namespace ferry
