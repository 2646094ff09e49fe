// FlowBuilder: turns the config of one flow into the parts of a Flow (flow.h): the output from the
// registry, the record framer, the source, the spool and dead-letter file, the retry pacing, and the
// flow's memory budget. This is where config keys become module options, once. Everything that can fail
// (a glob, a pattern, a key template, an unusable spool folder) fails here, before any flow starts, with
// an error that names the flow.
#pragma once

#include <uv.h>

#include <cstddef>
#include <string>

#include <spdlog/logger.h>

#include "agent/config/config.h"
#include "agent/core/corrected_clock.h"
#include "agent/core/environment.h"
#include "agent/core/memory_budget.h"
#include "agent/core/result.h"
#include "agent/pipeline/flow.h"
#include "agent/source/record_framer.h"

namespace ferry {

// What every flow's parts are built with.
struct BuildContext {
  uv_loop_t* loop;  // the spool's and the dead letters' disk work reports to it
  const config::Config& config;
  const std::string& hostname;
  spdlog::logger& log;
  CorrectedClock& clock;
  MemoryBudget* total;                       // the daemon's sum over every flow's budget (may be null)
  const Environment* environment = nullptr;  // ferry's, for the plugins' child processes
  std::string region = {};                   // the region the daemon resolved, for the plugins
};

// What every flow's plugins are made with, besides the flow's own options.
struct PluginContext {
  uv_loop_t* loop;  // null in `ferry check`: plugins are made and thrown away, never started
  const Clock& clock;
  const std::string& hostname;
  spdlog::logger& log;
  const Environment* environment = nullptr;
  std::string region = {};   // empty when not known
  std::string account = {};  // empty when the config names none
};

// The AWS account the config names (that of aws.role_arn), or empty.
std::string ConfiguredAccount(const config::Config& config);

// The share of memory_limit each of `flows` flows gets.
std::size_t FlowBudgetBytes(std::size_t memory_limit, std::size_t flows);

// What BuildFileFlow checks, without touching a file or folder: what `ferry check` runs for every flow
// (ops/preflight.h), so it refuses what `ferry run` would.
Status ValidateFileFlow(const config::FlowOptions& options, const std::string& hostname);

// The flow's plugins, made from their specs in order, and started (Plugin::Start) when there is a loop.
// Errors (one line per plugin that cannot be made or started) begin with the plugin's place in the config
// file and its key path. With a null loop (`ferry check`) nothing runs: they are made and thrown away.
Result<std::vector<PluginStage>> MakePluginStages(const config::FlowOptions& options,
                                                  const PluginContext& ctx);

// A flow that tails files (`ferry run`): its checkpoints, spool and dead letters live under state_dir.
// Opens the flow's spool, whose replayed records are charged to the flow's budget of budget_bytes.
Result<Flow::Parts> BuildFileFlow(const config::FlowOptions& options, const BuildContext& ctx,
                                  std::size_t budget_bytes);

// The framer options of a flow, capped at what its output takes.
FramerOptions FramingFor(const config::FlowOptions& options, std::size_t output_max_record_bytes);
// The sender options every output of the config shares: retry pacing, timeouts, clock correction.
SenderOptions SenderOptionsFor(const config::Config& config, CorrectedClock& clock, spdlog::logger& log);

}  // namespace ferry
