// The sample plugin: keeps one record in `rate` and drops the others (acknowledged and counted by the
// chain). Without a key it counts: the 1st, (rate+1)th, (2*rate+1)th ... record since the start are kept.
// With a key (`key: ${file}`, `key: <field path>`, or `key_regex:`) records with the same key are kept or
// dropped together: a record is kept when KeyHash(key) % rate == 0 (key_hash.h), the same decision on
// every host and run; a record without the key falls back to the count. Decides synchronously.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/keys/record_key.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

struct SampleOptions {
  std::uint64_t rate = 1;  // keep one record (or key) in this many; required
  RecordKeySpec key;
};

const std::vector<config::Field<SampleOptions>>& SampleFields();
Result<std::unique_ptr<Plugin>> MakeSamplePlugin(const SampleOptions& options, const PluginEnv& env);

}  // namespace ferry::plugins
