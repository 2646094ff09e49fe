// FlowBuilder: config keys to module options, and the parts of a file flow and of a stream flow.
#include "agent/pipeline/flow_builder.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/source/discovery.h"
#include "agent/source/file_tailer.h"

namespace ferry {

std::size_t FlowBudgetBytes(std::size_t memory_limit, std::size_t flows) {
  return memory_limit / std::max<std::size_t>(flows, 1);
}

FramerOptions FramingFor(const config::FlowOptions& options, std::size_t output_max_record_bytes) {
  FramerOptions framing;
  framing.max_record_bytes = std::min<std::size_t>(options.max_record_bytes, output_max_record_bytes);
  framing.oversize = options.oversize;
  framing.skip_header_lines = options.skip_header_lines;
  if (options.multiline) framing.multiline_start = options.multiline->start;
  return framing;
}

SenderOptions SenderOptionsFor(const config::Config& config, CorrectedClock& clock, spdlog::logger& log) {
  SenderOptions sender;
  sender.backoff_base = config.retry.backoff_base;
  sender.backoff_cap = config.retry.backoff_cap;
  sender.slow_retry = config.retry.slow_retry;
  sender.request_timeout_ms = static_cast<std::uint32_t>(config.aws.request_timeout.count());
  sender.correct_clock = [&clock, &log](std::int64_t server_time) {
    const std::int64_t offset = clock.Correct(server_time);
    log.warn("the host's clock is {} s {} the endpoint's; requests are signed with the endpoint's time",
             offset < 0 ? -offset : offset, offset < 0 ? "ahead of" : "behind");
  };
  return sender;
}

namespace {

// The stages of a file flow that can fail to build: the globs, the output, the framer.
struct FileStages {
  Discovery discovery;
  PreparedOutput output;
  RecordFramer framer;
};

Result<FileStages> PrepareFileStages(const config::FlowOptions& options, const std::string& hostname) {
  const std::string where = fmt::format("flows '{}'", options.name);
  auto discovery = Discovery::Create({options.files, options.exclude, options.exclude_compressed});
  if (!discovery) return Error(ErrorCode::kInvalidArgument, where + ": " + discovery.error().message());
  auto output = PrepareOutput(options, hostname);
  if (!output) return output.error();
  auto framer = RecordFramer::Create(FramingFor(options, output->max_record_bytes));
  if (!framer) return Error(ErrorCode::kInvalidArgument, where + ": " + framer.error().message());
  return FileStages{std::move(*discovery), std::move(*output), std::move(*framer)};
}

}  // namespace

std::string ConfiguredAccount(const config::Config& config) {
  // arn:aws:iam::123456789012:role/name: the fifth field.
  std::string_view arn = config.aws.role_arn;
  for (int field = 0; field < 4; ++field) {
    const std::size_t colon = arn.find(':');
    if (colon == std::string_view::npos) return "";
    arn.remove_prefix(colon + 1);
  }
  return std::string(arn.substr(0, arn.find(':')));
}

Result<std::vector<PluginStage>> MakePluginStages(const config::FlowOptions& options,
                                                  const PluginContext& ctx) {
  std::vector<PluginStage> stages;
  std::string errors;
  plugins::PluginEnv env{ctx.loop, ctx.clock, options.name, ctx.hostname, ctx.log};
  env.destination.kind =
      options.kinesis ? plugins::FlowDestination::Kind::kKinesis : plugins::FlowDestination::Kind::kFirehose;
  env.destination.name = options.kinesis    ? options.kinesis->stream
                         : options.firehose ? options.firehose->delivery_stream
                                            : std::string();
  env.destination.region = ctx.region;
  env.destination.account = ctx.account;
  env.environment = ctx.environment;
  for (const auto& spec : options.plugins) {
    auto made = spec.kind->Make(spec, env);
    Status started = made && ctx.loop != nullptr ? (*made)->Start() : Status::Ok();
    if (!made || !started) {
      errors += fmt::format("{}{}{}: {}\n", spec.location, spec.location.empty() ? "" : ": ", spec.path,
                            !made ? made.error().message() : started.error().message());
      continue;
    }
    stages.push_back(PluginStage{std::string(spec.kind->name()), std::move(*made), spec.on_error});
  }
  if (!errors.empty()) {
    errors.pop_back();
    return Error(ErrorCode::kInvalidArgument, errors);
  }
  return stages;
}

Status ValidateFileFlow(const config::FlowOptions& options, const std::string& hostname) {
  auto stages = PrepareFileStages(options, hostname);
  if (!stages) return stages.error();
  return Status::Ok();
}

namespace {

// What a flow's plugins are made and started with: the loop, and the region and account of its destination.
PluginContext PluginContextOf(const BuildContext& ctx) {
  return PluginContext{
      ctx.loop, ctx.clock, ctx.hostname, ctx.log, ctx.environment, ctx.region, ConfiguredAccount(ctx.config)};
}

}  // namespace

Result<Flow::Parts> BuildFileFlow(const config::FlowOptions& options, const BuildContext& ctx,
                                  std::size_t budget_bytes) {
  const config::Config& config = ctx.config;
  const std::string where = fmt::format("flows '{}'", options.name);
  auto stages = PrepareFileStages(options, ctx.hostname);
  if (!stages) return stages.error();

  TailerOptions t;
  t.flow = options.name;
  t.start_at = options.start_at;
  t.max_open_files = options.max_open_files;
  t.partial_line_timeout = options.partial_line_timeout;
  if (options.multiline) t.multiline_timeout = options.multiline->timeout;
  t.close_inactive = options.close_inactive;
  t.scan_interval = options.scan_interval;
  t.checkpoint_interval = config.checkpoint_interval;
  t.checkpoint_path = CheckpointPath(config.state_dir, options.name);

  auto plugins = MakePluginStages(options, PluginContextOf(ctx));
  if (!plugins) return plugins.error();

  Flow::Parts parts;
  parts.name = options.name;
  parts.plugins = std::move(*plugins);
  parts.budget = std::make_unique<MemoryBudget>(budget_bytes, ctx.total);
  parts.output = std::move(stages->output);
  // The tailer's parts move into the source once; shared so the maker stays copyable.
  struct TailerParts {
    TailerOptions options;
    Discovery discovery;
    RecordFramer framer;
  };
  auto held = std::make_shared<TailerParts>(
      TailerParts{std::move(t), std::move(stages->discovery), std::move(stages->framer)});
  parts.source = [held](const SourceContext& s) -> std::unique_ptr<Source> {
    return std::make_unique<FileTailer>(s.loop, s.log, s.clock, std::move(held->options),
                                        std::move(held->discovery), std::move(held->framer), s.budget, s.acks,
                                        s.sink);
  };
  parts.sender = SenderOptionsFor(config, ctx.clock, ctx.log);

  Safekeeping& keep = parts.keep;
  keep.flow = options.name;
  keep.budget = parts.budget.get();
  keep.spool_always = config.spool.mode == config::SpoolOptions::Mode::kAlways;
  const std::filesystem::path state(config.state_dir);
  const std::string folder_name = EscapeFlowName(options.name);
  auto spool = spool::Spool::Open(ctx.loop, (state / "spool" / folder_name).string(), config.spool.max_bytes,
                                  "flow " + options.name, ctx.log, ctx.clock, parts.budget.get());
  if (!spool) return Error(ErrorCode::kIo, where + ": " + spool.error().message());
  keep.spool = std::move(*spool);
  keep.dead_letters =
      std::make_unique<DeadLetterWriter>(ctx.loop, (state / "dead-letter").string(), folder_name,
                                         [&clock = ctx.clock] { return clock.UnixSeconds() * 1000; });
  return parts;
}

Result<Flow::Parts> BuildStreamFlow(const config::FlowOptions& options, const BuildContext& ctx,
                                    std::size_t budget_bytes, StreamFlowSpec spec) {
  const std::string where = fmt::format("flows '{}'", options.name);
  // The inputs are the source's once it is built; until then, a failure closes them.
  auto fail = [&spec](Error error) {
    for (auto& in : spec.inputs) {
      if (in.fd >= 0) ::close(in.fd);
    }
    return error;
  };
  auto output = PrepareOutput(options, ctx.hostname);
  if (!output) return fail(output.error());
  auto framer = RecordFramer::Create(FramingFor(options, output->max_record_bytes));
  if (!framer) return fail(Error(ErrorCode::kInvalidArgument, where + ": " + framer.error().message()));
  auto plugins = MakePluginStages(options, PluginContextOf(ctx));
  if (!plugins) return fail(plugins.error());

  Flow::Parts parts;
  parts.name = options.name;
  parts.plugins = std::move(*plugins);
  parts.budget = std::make_unique<MemoryBudget>(budget_bytes, ctx.total);
  parts.output = std::move(*output);
  struct StreamParts {
    StreamSourceOptions options;
    std::vector<StreamInput> inputs;
    RecordFramer framer;
    std::function<void(StreamSource&)> on_source;
  };
  auto held = std::make_shared<StreamParts>(StreamParts{StreamSourceOptions{options.name, std::nullopt},
                                                        std::move(spec.inputs), std::move(*framer),
                                                        std::move(spec.on_source)});
  parts.source = [held](const SourceContext& s) -> std::unique_ptr<Source> {
    auto source =
        std::make_unique<StreamSource>(s.loop, s.log, s.clock, std::move(held->options),
                                       std::move(held->inputs), std::move(held->framer), s.budget, s.sink);
    if (held->on_source) held->on_source(*source);
    return source;
  };
  parts.sender = SenderOptionsFor(ctx.config, ctx.clock, ctx.log);

  Safekeeping& keep = parts.keep;
  keep.flow = options.name;
  keep.budget = parts.budget.get();
  std::filesystem::path path(spec.dead_letter_path);
  if (path.extension() == ".jsonl") path.replace_extension();
  std::filesystem::path folder = path.parent_path();
  if (folder.empty()) folder = ".";
  keep.dead_letters =
      std::make_unique<DeadLetterWriter>(ctx.loop, folder.string(), path.filename().string(),
                                         [&clock = ctx.clock] { return clock.UnixSeconds() * 1000; });
  keep.dead_letters->set_fallback_fd(spec.dead_letter_fallback_fd);
  return parts;
}

}  // namespace ferry
