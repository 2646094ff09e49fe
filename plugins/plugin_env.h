// PluginEnv: what a built-in plugin is made with: the flow it runs in (its name and its destination), the
// host, the loop, the clock and ferry's environment.
//
// Per-record context (the file a record was read from, when it was read, where in the file) travels with
// the record's batch (agent/core/batch.h: origin(), read_time_ms(), file_id(), Record::end_offset), so a
// plugin reads it there and never from here.
#pragma once

#include <uv.h>

#include <string>

#include <spdlog/logger.h>

#include "agent/core/clock.h"
#include "agent/core/environment.h"

namespace ferry::plugins {

// Where the flow's records go, for a plugin that names it (lambda's event carries the delivery stream's ARN).
struct FlowDestination {
  enum class Kind { kFirehose, kKinesis };
  Kind kind = Kind::kFirehose;
  std::string name;     // the delivery stream's or the stream's name
  std::string region;   // the flow's AWS region; empty when not known (`ferry check` before it is looked up)
  std::string account;  // the AWS account the config names (aws.role_arn's); empty when it names none
};

struct PluginEnv {
  uv_loop_t* loop;       // a plugin with timers or child processes runs them here; loop thread only
  const Clock& clock;    // wall time (unix seconds), for anything a plugin stamps
  std::string flow;      // ${flow}
  std::string hostname;  // ${hostname}
  spdlog::logger& log;
  FlowDestination destination = {};
  // ferry's environment (a child process inherits it, PATH finds its program); null: an empty one.
  const Environment* environment = nullptr;
};

}  // namespace ferry::plugins
