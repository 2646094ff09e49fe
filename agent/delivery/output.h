// Output: the delivery end of a flow, everything after its plugin chain: a packer that turns records into
// a destination's wire records, the request collector, and the sender with its retries. A flow is a
// source, its plugins and one output (Kinesis or Firehose), and only this interface lies between them.
// Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/batch_sink.h"
#include "agent/core/units.h"

namespace ferry {

class Output {
 public:
  using Counter = std::pair<std::string_view, std::uint64_t>;

  virtual ~Output() = default;

  // Where the flow's records go.
  virtual BatchSink& input() = 0;
  // Starts the output's own work (Kinesis: listing the stream's shards, then refreshing them). The flow
  // starts reading at once and never waits for that work: input() takes records from before Start, in any
  // state of the output (Kinesis holds what comes before its first listing ends and packs it once that
  // listing is in; see kinesis_output.h), so start_at: end is taken when ferry starts, not once an
  // endpoint has answered.
  virtual void Start() = 0;
  // Sends everything it holds, then waits for the sender (at most timeout); on_drained gets the user
  // records given up.
  virtual void Drain(Duration timeout, std::function<void(std::size_t undelivered)> on_drained) = 0;
  // Cancels its requests still out and closes every handle; on_closed runs once all are closed. The
  // shared HTTP client goes on serving the other flows, so one flow can close while they run.
  virtual void Close(std::function<void()> on_closed) = 0;

  // For the flow's log line, e.g. "records sent 10 (in 2 Kinesis records, 2 aggregated), requests 1, ...".
  virtual std::string Summary() const = 0;
  // Its counters and gauges by name, in a fixed order.
  virtual void AppendCounters(std::vector<Counter>& out) const = 0;
  // Errors the endpoint returned, by code.
  virtual const std::map<std::string, std::uint64_t>& Errors() const = 0;
};

}  // namespace ferry
