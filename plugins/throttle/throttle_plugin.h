// The throttle plugin: lets at most `rate` records per `per` through, per key (`key: ${file}`, a JSON
// field path, or `key_regex:`; none: one limit for the flow), with bursts of up to `burst`; the excess is
// dropped (acknowledged and counted by the chain). Records without the key share one bucket. Time is the
// loop's (uv_now), read once per batch. Decides synchronously.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/pipeline/plugin.h"
#include "plugins/keys/record_key.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

struct ThrottleOptions {
  std::uint64_t rate = 1;  // records per `per`; required
  Duration per = std::chrono::seconds(1);
  std::uint64_t burst = 0;  // records a full bucket holds; 0: rate
  std::uint64_t max_keys = 10000;
  RecordKeySpec key;
};

const std::vector<config::Field<ThrottleOptions>>& ThrottleFields();
Result<std::unique_ptr<Plugin>> MakeThrottlePlugin(const ThrottleOptions& options, const PluginEnv& env);
// For tests: the plugin with its time (milliseconds, monotonic) from now_ms instead of the loop.
std::unique_ptr<Plugin> MakeThrottlePlugin(const ThrottleOptions& options,
                                           std::function<std::uint64_t()> now_ms);

}  // namespace ferry::plugins
