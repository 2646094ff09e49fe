// Source: where a flow's records come from. It frames what it reads into sealed batches for the sink it
// was built with (the flow's plugin chain), reads only while the flow's memory budget has room, and takes
// the acknowledgements of its records back through the batches (Batch -> AckSink).
//
// Two kinds: the FileTailer (file_tailer.h) follows files for `ferry run` and keeps checkpoints under
// state_dir; the StreamSource (stream_source.h) reads files or standard input once, optionally
// decompressed, for `ferry send`, and keeps no state at all.
// Loop thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/core/named_counter.h"
#include "agent/source/file_status.h"

namespace ferry {

class Source {
 public:
  virtual ~Source() = default;

  // Starts reading. Where each input starts is fixed here, not later (start_at: end means "the end at
  // the moment ferry started").
  virtual void Start() = 0;
  // Stops reading and closes every handle; on_stopped runs once they are closed. What it knows stays, so
  // Persist() still works afterwards.
  virtual void Stop(std::function<void()> on_stopped) = 0;
  // Makes the acknowledged positions durable (checkpoints); done runs once they are, at once for a
  // source that keeps none.
  virtual void Persist(std::function<void()> done) = 0;

  // Its counters and gauges by name, in a fixed order, for `ferry status` and metrics.
  virtual void AppendCounters(std::vector<NamedCounter>& out) const = 0;
  // "files open 2, bytes read 1234, records read 10 (split 0, empty lines 0)" for the flow's log line.
  virtual std::string Summary() const = 0;
  // Every input it knows, with offsets and figures.
  virtual std::vector<TailedFileStatus> Files() const = 0;
};

}  // namespace ferry
