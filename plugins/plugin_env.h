// PluginEnv: what a built-in plugin is made with: the flow it runs in, the host, the loop and the clock.
//
// Per-record context (the file a record was read from, when it was read, where in the file) travels with
// the record's batch (agent/core/batch.h: origin(), read_time_ms(), file_id(), Record::end_offset), so a
// plugin reads it there and never from here.
#pragma once

#include <uv.h>

#include <string>

#include <spdlog/logger.h>

#include "agent/core/clock.h"

namespace ferry::plugins {

struct PluginEnv {
  uv_loop_t* loop;       // a plugin with timers or child processes runs them here; loop thread only
  const Clock& clock;    // wall time (unix seconds), for anything a plugin stamps
  std::string flow;      // ${flow}
  std::string hostname;  // ${hostname}
  spdlog::logger& log;
};

}  // namespace ferry::plugins
