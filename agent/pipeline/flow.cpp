// Flow: construction of the stage chain and its ordered shutdown.
#include "agent/pipeline/flow.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "agent/checkpoint/checkpoint_store.h"

namespace ferry {
Result<Flow::Parts> Flow::Prepare(const config::FlowOptions& options, const config::Config& config,
                                  const std::string& hostname, const FlowContext& ctx) {
  const std::string& state_dir = config.state_dir;
  std::string where = fmt::format("flows '{}'", options.name);
  auto discovery = Discovery::Create({options.files, options.exclude, options.exclude_compressed});
  if (!discovery) return Error(ErrorCode::kInvalidArgument, where + ": " + discovery.error().message());

  std::variant<firehose::FirehoseOutput::Parts, kinesis::KinesisOutput::Parts> output;
  std::size_t output_max_record_bytes = 0;
  if (options.kinesis) {
    auto parts = kinesis::KinesisOutput::Prepare(*options.kinesis, options.name, hostname);
    if (!parts) return Error(ErrorCode::kInvalidArgument, where + ": " + parts.error().message());
    output_max_record_bytes = parts->max_record_bytes;
    output = std::move(*parts);
  } else {
    auto parts = firehose::FirehoseOutput::Prepare(*options.firehose);
    output_max_record_bytes = parts.max_record_bytes;
    output = parts;
  }

  FramerOptions framing;
  framing.max_record_bytes = std::min<std::size_t>(options.max_record_bytes, output_max_record_bytes);
  framing.oversize = options.oversize == config::Oversize::kSplit ? Oversize::kSplit : Oversize::kTruncate;
  framing.skip_header_lines = options.skip_header_lines;
  if (options.multiline) framing.multiline_start = options.multiline->start;
  auto framer = RecordFramer::Create(framing);
  if (!framer) return Error(ErrorCode::kInvalidArgument, where + ": " + framer.error().message());

  TailerOptions t;
  t.flow = options.name;
  t.start_at = options.start_at;
  t.max_open_files = options.max_open_files;
  t.partial_line_timeout = options.partial_line_timeout;
  if (options.multiline) t.multiline_timeout = options.multiline->timeout;
  t.close_inactive = options.close_inactive;
  t.scan_interval = options.scan_interval;
  t.checkpoint_interval = config.checkpoint_interval;
  t.checkpoint_path = CheckpointPath(state_dir, options.name);

  SenderOptions sender;
  sender.backoff_base = config.retry.backoff_base;
  sender.backoff_cap = config.retry.backoff_cap;
  sender.slow_retry = config.retry.slow_retry;
  sender.request_timeout_ms = static_cast<std::uint32_t>(config.aws.request_timeout.count());
  sender.correct_clock = [&clock = ctx.clock, &log = ctx.log](std::int64_t server_time) {
    const std::int64_t offset = clock.Correct(server_time);
    log.warn("the host's clock is {} s {} the endpoint's; requests are signed with the endpoint's time",
             offset < 0 ? -offset : offset, offset < 0 ? "ahead of" : "behind");
  };

  Safekeeping keep;
  keep.flow = options.name;
  keep.budget = &ctx.budget;
  keep.spool_always = config.spool.mode == config::SpoolOptions::Mode::kAlways;
  const std::filesystem::path state(state_dir);
  const std::string folder_name = EscapeFlowName(options.name);
  auto spool = spool::Spool::Open(ctx.loop, (state / "spool" / folder_name).string(), config.spool.max_bytes,
                                  "flow " + options.name, ctx.log, ctx.clock, &ctx.budget);
  if (!spool) return Error(ErrorCode::kIo, where + ": " + spool.error().message());
  keep.spool = std::move(*spool);
  keep.dead_letters =
      std::make_unique<DeadLetterWriter>(ctx.loop, (state / "dead-letter").string(), folder_name,
                                         [&clock = ctx.clock] { return clock.UnixSeconds() * 1000; });
  return Parts{std::move(t), std::move(*discovery), std::move(*framer), std::move(output),
               sender,       std::move(keep)};
}

namespace {
std::unique_ptr<Output> MakeOutput(const FlowContext& ctx, const config::FlowOptions& options,
                                   Flow::Parts& parts, aws::ServiceEndpoint endpoint,
                                   aws::CredentialSource& credentials) {
  parts.sender.credentials_refused = [&credentials](std::uint64_t signed_at) { credentials.Refused(signed_at); };
  if (auto* k = std::get_if<kinesis::KinesisOutput::Parts>(&parts.output)) {
    return std::make_unique<kinesis::KinesisOutput>(
        ctx.loop, ctx.log, ctx.http, ctx.budget, ctx.clock, options.name, *options.kinesis, std::move(*k),
        std::move(endpoint), credentials, parts.sender, std::move(parts.keep));
  }
  return std::make_unique<firehose::FirehoseOutput>(
      ctx.loop, ctx.log, ctx.http, ctx.budget, ctx.clock, *options.firehose,
      std::get<firehose::FirehoseOutput::Parts>(parts.output), std::move(endpoint), credentials, parts.sender,
      std::move(parts.keep));
}
}  // namespace

Flow::Flow(const FlowContext& ctx, const config::FlowOptions& options, Parts parts,
           aws::ServiceEndpoint endpoint, aws::CredentialSource& credentials)
    : name_(options.name),
      output_(MakeOutput(ctx, options, parts, std::move(endpoint), credentials)),
      chain_(output_->input()),
      tailer_(ctx.loop, ctx.log, ctx.clock, std::move(parts.tailer), std::move(parts.discovery),
              std::move(parts.framer), ctx.budget, ctx.acks, chain_) {}

void Flow::Start() {
  output_->Start([this] { StartReading(); });
}

void Flow::StartReading() {
  if (reading_ || draining_) return;
  reading_ = true;
  tailer_.Start();
}

void Flow::Drain(Duration timeout, std::function<void(std::size_t)> on_drained) {
  draining_ = true;
  tailer_.Stop([] {});
  output_->Drain(timeout, [this, on_drained = std::move(on_drained)](std::size_t undelivered) {
    if (reading_) tailer_.SaveCheckpoints();  // after the last acknowledgements are in
    on_drained(undelivered);
  });
}

void Flow::Close(std::function<void()> on_closed) {
  output_->Close(std::move(on_closed));
}

std::string Flow::Summary() const {
  const TailerCounters& t = tailer_.counters();
  return fmt::format("flow {}: files open {}, bytes read {}, records read {} (split {}, empty lines {}), {}",
                     name_, tailer_.open_files(), t.files.bytes_read, t.framing.records,
                     t.framing.split_records, t.framing.empty_lines, output_->Summary());
}

std::vector<std::pair<std::string_view, std::uint64_t>> Flow::Counters() const {
  const TailerCounters& t = tailer_.counters();
  const FileFigures& f = t.files;
  std::uint64_t behind = 0;
  for (const auto& file : tailer_.Files()) behind += file.bytes_behind();
  std::vector<std::pair<std::string_view, std::uint64_t>> out = {
      {"files_open", tailer_.open_files()}, {"files_known", tailer_.known_files()},
      {"bytes_read", f.bytes_read},         {"bytes_behind", behind},
      {"records_read", f.records},
  };
  output_->AppendCounters(out);
  out.insert(out.end(), {
                            {"oversize_records", f.oversize_records},
                            {"truncated_bytes", t.framing.truncated_bytes},
                            {"empty_lines", t.framing.empty_lines},
                            {"header_lines", t.framing.header_lines},
                            {"multiline_records", t.framing.multiline_records},
                            {"partial_flushes", t.partial_flushes},
                            {"nul_records", f.nul_records},
                            {"invalid_utf8_records", f.invalid_utf8_records},
                            {"hole_bytes_skipped", f.hole_bytes_skipped},
                            {"rotations", f.rotations},
                            {"renames", t.renames},
                            {"truncations", t.truncations},
                            {"copies_followed", t.copies_followed},
                            {"files_opened", t.files_opened},
                            {"files_closed", t.files_closed},
                            {"skipped_not_regular", t.skipped_not_regular},
                            {"skipped_unreadable", t.skipped_unreadable},
                            {"skipped_broken_links", t.skipped_broken_links},
                            {"skipped_errors", t.skipped_errors},
                            {"vanished", t.vanished},
                            {"read_errors", t.read_errors},
                            {"checkpoint_writes", t.checkpoint_writes},
                            {"checkpoint_errors", t.checkpoint_errors},
                        });
  return out;
}

}  // namespace ferry
