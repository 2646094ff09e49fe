// Flow: one flow wired end to end on the shared loop:  Source -> PluginChain -> Output.
//   Source: the FileTailer (`ferry run`) or a StreamSource (`ferry send`);
//   Output: from the output registry (Kinesis: StreamPacker -> RequestCollector -> Sender; Firehose:
//   FirehosePacker -> RequestCollector -> Sender).
// The flow owns its stages and its memory budget, and shuts down in data-flow order: stop reading, let the
// plugins finish, send what is held, drain the sender, make the acknowledged positions durable, close
// every handle. A flow is independent of the others: it can be drained, closed and replaced while they
// run (flow_set.h). flow_builder.h makes its Parts from the config. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "agent/checkpoint/ack_tracker.h"
#include "agent/core/corrected_clock.h"
#include "agent/core/memory_budget.h"
#include "agent/core/named_counter.h"
#include "agent/delivery/output.h"
#include "agent/pipeline/output_registry.h"
#include "agent/pipeline/plugin_chain.h"
#include "agent/source/source.h"

namespace ferry {

// What a flow shares with the others; everything here outlives every flow.
struct FlowContext {
  uv_loop_t* loop;
  spdlog::logger& log;
  net::HttpClient& http;
  AckTracker& acks;
  CorrectedClock& clock;  // signing time; the senders correct it when AWS says the host's clock is off
};

// What a source is built with; the references outlive the source.
struct SourceContext {
  uv_loop_t* loop;
  spdlog::logger& log;
  const Clock& clock;
  MemoryBudget& budget;  // the flow's
  AckTracker& acks;
  BatchSink& sink;  // the flow's plugin chain
};

class Flow {
 public:
  // A flow's prepared parts: everything that can fail to build is built here, before any flow starts.
  struct Parts {
    std::string name;
    std::unique_ptr<MemoryBudget> budget;  // its share of memory_limit; the spool's replay is charged to it
    PreparedOutput output;
    std::function<std::unique_ptr<Source>(const SourceContext& ctx)> source;
    std::vector<PluginStage> plugins;
    SenderOptions sender;  // retry pacing (each output adds its own options)
    Safekeeping keep;      // the spool (opened: an unusable folder stops ferry) and dead letters
  };

  // endpoint: the output's service endpoint.
  Flow(const FlowContext& ctx, Parts parts, aws::ServiceEndpoint endpoint,
       aws::CredentialSource& credentials);
  ~Flow();
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  const std::string& name() const { return name_; }
  void Start();
  // Stops reading, lets the plugins finish and sends what was read; then makes the acknowledged positions
  // durable. on_drained gets the records given up after timeout.
  void Drain(Duration timeout, std::function<void(std::size_t undelivered)> on_drained);
  // Closes every handle; on_closed runs once all are closed, from the loop and not from inside a stage, so
  // it may destroy the flow. Call after Drain has finished (it stops the source).
  void Close(std::function<void()> on_closed);

  // One line of counters for the log.
  std::string Summary() const;
  // Every counter and gauge of the flow by name, in a fixed order: what `ferry status` and metrics show.
  std::vector<NamedCounter> Counters() const;
  // Errors the endpoint returned, by code.
  const std::map<std::string, std::uint64_t>& Errors() const { return output_->Errors(); }
  std::vector<TailedFileStatus> Files() const { return source_->Files(); }
  const PluginChain& plugins() const { return chain_; }
  MemoryBudget& budget() { return *budget_; }

 private:
  void StartReading();
  void DrainOutput(Duration timeout);

  uv_loop_t* loop_;
  std::string name_;
  bool reading_ = false;
  bool draining_ = false;
  bool output_draining_ = false;
  bool source_stopped_ = false;  // its handles are closed
  std::function<void()> on_source_stopped_;
  std::function<void(std::size_t)> on_drained_;
  std::function<void()> on_closed_;
  uv_timer_t drain_timer_{};  // bounds the wait for the plugins at shutdown
  std::uint64_t drain_deadline_ = 0;
  // Each stage is built after the one it feeds, and destroyed before it; the budget outlives them all.
  std::unique_ptr<MemoryBudget> budget_;
  DeadLetterWriter* dead_letters_;  // owned by the output's safekeeping; the chain's rejects go there too
  std::unique_ptr<Output> output_;
  PluginChain chain_;
  std::unique_ptr<Source> source_;
};

}  // namespace ferry
