// `ferry run [-c FILE]`: validate the config (the parser, then the same preflight as `ferry check`), then
// run the daemon in the foreground until a stop signal.
#include <cstdio>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/core/heap_retention.h"
#include "agent/ops/daemon.h"
#include "agent/ops/log_sink.h"
#include "agent/ops/preflight.h"

namespace ferry::cli {

int RunCommand(std::span<const std::string_view> args) {
  config::ConfigOrigin origin;
  auto config = LoadConfigFromArgs(args, "run", &origin);
  if (!config) return kExitUsage;
  auto log = MakeStderrLogger(config->log_level, config->log_format);
  Environment env = Environment::FromProcess();
  const PreflightReport report = Preflight(*config, env);
  for (const auto& warning : report.warnings) log->warn("{}", warning);
  if (!report.ok()) {
    // Printed as `ferry check` prints them: these are config errors, one per line.
    for (const auto& error : report.errors) PrintLines(error);
    return kExitUsage;
  }
  RetainHeap(config->memory_limit);
  Daemon daemon(std::move(*config), std::move(origin), std::move(env), log);
  Status status = daemon.Run();
  if (!status) {
    log->error("{}", status.error().message());
    return status.error().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  return kExitOk;
}

}  // namespace ferry::cli
