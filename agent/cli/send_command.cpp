// `ferry send`: one-off sends of files or standard input through the same pipeline as `ferry run`
// (ops/send_session.h), with a progress line on a terminal and a summary at the end. Exit status: 0 when
// every record was acknowledged, 1 when some were refused or not sent, 2 for bad usage or config, 128 +
// the signal after SIGINT or SIGTERM (130 for Ctrl-C).
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include <spdlog/sinks/stdout_sinks.h>
#include "agent/cli/commands.h"
#include "agent/cli/config_flag.h"
#include "agent/cli/send_args.h"
#include "agent/core/heap_retention.h"

#include "agent/ops/log_sink.h"
#include "agent/ops/progress_line_sink.h"
#include "agent/ops/send_session.h"

namespace ferry::cli {
namespace {

std::size_t TerminalWidth(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

int SendCommand(std::span<const std::string_view> args) {
  auto parsed = ParseSendArgs(args);
  if (!parsed) {
    PrintLines(parsed.error().message(), "ferry send: ");
    fmt::print(stderr, "{}\n", kSendUsage);
    return kExitUsage;
  }
  if (parsed->help) {
    fmt::print("{}\n\n{}\n", kSendUsage, kSendHelp);
    return kExitOk;
  }
  std::optional<config::Config> base;
  if (!parsed->config_file.empty()) {
    auto loaded = config::LoadConfigFile(parsed->config_file);
    if (!loaded) {
      PrintLines(loaded.error().message());
      return kExitUsage;
    }
    base = std::move(*loaded);
  }
  auto config = SendConfig(*parsed, std::move(base));
  if (!config) {
    PrintLines(config.error().message(), "ferry send: ");
    return kExitUsage;
  }
  // Inputs are opened before anything is sent: a missing file stops the command with nothing sent.
  auto inputs = OpenStreamInputs(parsed->inputs);
  if (!inputs) {
    PrintLines(inputs.error().message(), "ferry send: ");
    return kExitUsage;
  }
  SendPlan plan;
  plan.inputs = std::move(*inputs);
  plan.dead_letter_path =
      parsed->dead_letter.empty() ? std::string(kDefaultDeadLetterFile) : parsed->dead_letter;
  plan.max_retry_time = parsed->max_retry_time;
  plan.progress = parsed->progress == ProgressMode::kAlways ||
                  (parsed->progress == ProgressMode::kAuto && ::isatty(STDERR_FILENO) == 1);
  plan.progress_width = TerminalWidth(STDERR_FILENO);

  // On a terminal with a progress line, a log line first erases the line it would run on after.
  auto log = plan.progress ? MakeLogger(std::make_shared<ProgressLineSink>(
                                            STDERR_FILENO, std::make_shared<spdlog::sinks::stderr_sink_mt>()),
                                        config->log_level)
                           : MakeStderrLogger(config->log_level, config->log_format);
  RetainHeap(config->memory_limit);
  SendSession session(std::move(*config), Environment::FromProcess(), log, std::move(plan));
  auto outcome = session.Run();
  if (!outcome) {
    PrintLines(outcome.error().message(), "ferry send: ");
    if (outcome.error().message().starts_with("no AWS region"))
      PrintLines("or give --region R", "ferry send: ");
    return outcome.error().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  const std::string summary = FormatSendSummary(*outcome);
  std::fwrite(summary.data(), 1, summary.size(), stderr);
  return SendExitStatus(*outcome);
}

}  // namespace ferry::cli
