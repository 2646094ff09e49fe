// RedactPlugin: the `redact` built-in. Takes secrets and personal data out of each record before it
// leaves the host: every pattern of the plugin is searched for in one pass (matcher.h), and a record with
// secrets is rebuilt once, each secret replaced (replacement.h). A record with none is kept as it is, with
// no allocation. Never fails or drops a record: binary and invalid UTF-8 records are searched as bytes.
// Loop thread only.
#pragma once

#include <memory>

#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/plugin_env.h"
#include "plugins/redact/redact_options.h"

namespace ferry::plugins {

// Compiles the patterns and reads the hash key file; errors name the pattern or the file.
Result<std::unique_ptr<Plugin>> MakeRedactPlugin(const redact::RedactOptions& options, const PluginEnv& env);

}  // namespace ferry::plugins
