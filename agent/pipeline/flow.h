// Flow: one configured flow wired end to end on the shared loop:
//   FileTailer -> PluginChain -> Output (Kinesis: StreamPacker -> RequestCollector -> Sender;
//                                        Firehose: FirehosePacker -> RequestCollector -> Sender)
// It owns its stages and shuts them down in data-flow order: stop reading, send what is held, drain the
// sender, close handles. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <spdlog/logger.h>

#include "agent/checkpoint/ack_tracker.h"
#include "agent/config/config.h"
#include "agent/core/corrected_clock.h"
#include "agent/delivery/output.h"
#include "agent/firehose/firehose_output.h"
#include "agent/kinesis/kinesis_output.h"
#include "agent/pipeline/plugin_chain.h"
#include "agent/source/file_tailer.h"

namespace ferry {

// What a flow shares with the others.
struct FlowContext {
  uv_loop_t* loop;
  spdlog::logger& log;
  net::HttpClient& http;
  MemoryBudget& budget;
  AckTracker& acks;
  CorrectedClock& clock;  // signing time; the senders correct it when AWS says the host's clock is off
};

class Flow {
 public:
  // What a flow is built from that can fail to build (a glob, a pattern). Prepared for every flow before
  // any flow exists, so a bad option stops ferry before it has opened a handle.
  struct Parts {
    TailerOptions tailer;
    Discovery discovery;
    RecordFramer framer;
    std::variant<firehose::FirehoseOutput::Parts, kinesis::KinesisOutput::Parts> output;
    SenderOptions sender;  // retry pacing (each output adds its own options)
    Safekeeping keep;      // the spool (opened here: an unusable folder stops ferry) and dead letters
  };
  // Opens the flow's spool, whose replayed records are charged to ctx.budget.
  static Result<Parts> Prepare(const config::FlowOptions& options, const config::Config& config,
                               const std::string& hostname, const FlowContext& ctx);

  // endpoint: the flow's destination service (Kinesis or Firehose).
  Flow(const FlowContext& ctx, const config::FlowOptions& options, Parts parts, aws::ServiceEndpoint endpoint,
       aws::CredentialSource& credentials);
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  const std::string& name() const { return name_; }
  void Start();
  // Stops reading and sends what was read; then writes the checkpoints durably. on_drained runs once they
  // are on disk, with the records given up after timeout.
  void Drain(Duration timeout, std::function<void(std::size_t undelivered)> on_drained);
  // Closes every handle; call once the HTTP client has stopped.
  void Close(std::function<void()> on_closed);

  // One line of counters for the log.
  std::string Summary() const;

  // Every counter and gauge of the flow by name, in a fixed order: what `ferry status` and metrics show.
  std::vector<std::pair<std::string_view, std::uint64_t>> Counters() const;
  // Errors the endpoint returned, by code.
  const std::map<std::string, std::uint64_t>& Errors() const { return output_->Errors(); }
  std::vector<TailedFileStatus> Files() const { return tailer_.Files(); }

 private:
  void StartReading();

  std::string name_;
  bool reading_ = false;
  bool draining_ = false;
  // Each stage is built after the one it feeds. Batches still held downstream when the flow is destroyed
  // point only at the daemon's AckTracker and MemoryBudget, which outlive every flow.
  std::unique_ptr<Output> output_;
  PluginChain chain_;
  FileTailer tailer_;
};

}  // namespace ferry
