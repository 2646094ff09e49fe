// SendArgs: parsing `ferry send`'s flags and laying them over the config.
#include "agent/cli/send_args.h"

#include <algorithm>

#include <fmt/format.h>

namespace ferry::cli {
namespace {

Error Usage(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

Result<Compression> ParseCompression(std::string_view text) {
  if (text == "gzip") return Compression::kGzip;
  if (text == "zstd") return Compression::kZstd;
  if (text == "none") return Compression::kNone;
  return Usage(fmt::format("--compression: '{}' is not gzip, zstd or none", text));
}

Result<ProgressMode> ParseProgress(std::string_view text) {
  if (text == "auto") return ProgressMode::kAuto;
  if (text == "always") return ProgressMode::kAlways;
  if (text == "never") return ProgressMode::kNever;
  return Usage(fmt::format("--progress: '{}' is not auto, always or never", text));
}

}  // namespace

Result<SendArgs> ParseSendArgs(std::span<const std::string_view> args) {
  SendArgs out;
  bool flags_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (flags_done || arg == "-" || !arg.starts_with("-")) {
      out.inputs.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg == "--no-aggregate") {
      out.no_aggregate = true;
      continue;
    }
    // Every other flag takes a value.
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (auto eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    static constexpr std::string_view kValued[] = {"--stream",      "--delivery-stream",
                                                   "--region",      "--endpoint",
                                                   "--profile",     "--partition-key",
                                                   "--compression", "-c",
                                                   "--config",      "--flow",
                                                   "--progress",    "--max-retry-time",
                                                   "--dead-letter", "--log-level"};
    if (std::find(std::begin(kValued), std::end(kValued), name) == std::end(kValued))
      return Usage(fmt::format("unknown flag '{}'", arg));
    if (!value) {
      if (i + 1 == args.size()) return Usage(fmt::format("{} needs a value", name));
      value = args[++i];
    }
    const std::string v(*value);
    if (v.empty()) return Usage(fmt::format("{} needs a value", name));
    if (name == "--stream") {
      out.stream = v;
    } else if (name == "--delivery-stream") {
      out.delivery_stream = v;
    } else if (name == "--region") {
      out.region = v;
    } else if (name == "--endpoint") {
      out.endpoint = v;
    } else if (name == "--profile") {
      out.profile = v;
    } else if (name == "--partition-key") {
      out.partition_key = v;
    } else if (name == "--compression") {
      auto c = ParseCompression(v);
      if (!c) return c.error();
      out.compression = *c;
    } else if (name == "-c" || name == "--config") {
      out.config_file = v;
    } else if (name == "--flow") {
      out.flow = v;
    } else if (name == "--progress") {
      auto p = ParseProgress(v);
      if (!p) return p.error();
      out.progress = *p;
    } else if (name == "--max-retry-time") {
      auto d = ParseDuration(v);
      if (!d) return Usage(fmt::format("--max-retry-time: {}", d.error().message()));
      if (d->count() <= 0) return Usage("--max-retry-time must be more than 0");
      out.max_retry_time = *d;
    } else if (name == "--dead-letter") {
      out.dead_letter = v;
    } else if (name == "--log-level") {
      if (v != "trace" && v != "debug" && v != "info" && v != "warn" && v != "error")
        return Usage(fmt::format("--log-level: '{}' is not trace, debug, info, warn or error", v));
      out.log_level = v;
    }
  }
  if (out.help) return out;
  if (!out.stream.empty() && !out.delivery_stream.empty())
    return Usage("--stream and --delivery-stream exclude each other: name one destination");
  if (!out.flow.empty() && out.config_file.empty()) return Usage("--flow names a flow of -c FILE: give -c");
  if (out.stream.empty() && out.delivery_stream.empty() && out.config_file.empty())
    return Usage("name a destination: --stream S (Kinesis) or --delivery-stream D (Firehose)");
  return out;
}

Result<config::Config> SendConfig(const SendArgs& args, std::optional<config::Config> base) {
  config::Config config = base ? std::move(*base) : config::Config{};
  config::FlowOptions flow;
  if (!base) {
    flow.name = "send";
  } else if (!args.flow.empty()) {
    auto it = std::find_if(config.flows.begin(), config.flows.end(),
                           [&](const config::FlowOptions& f) { return f.name == args.flow; });
    if (it == config.flows.end())
      return Usage(fmt::format("--flow: {} has no flow named '{}'", config.file, args.flow));
    flow = std::move(*it);
  } else if (config.flows.size() == 1) {
    flow = std::move(config.flows.front());
  } else {
    std::string names;
    for (const auto& f : config.flows) names += (names.empty() ? "" : ", ") + f.name;
    return Usage(
        fmt::format("{} has {} flows ({}): name one with --flow", config.file, config.flows.size(), names));
  }

  if (!args.stream.empty()) {
    if (!flow.kinesis) flow.kinesis.emplace();
    flow.kinesis->stream = args.stream;
    flow.firehose.reset();
  } else if (!args.delivery_stream.empty()) {
    if (!flow.firehose) flow.firehose.emplace();
    flow.firehose->delivery_stream = args.delivery_stream;
    flow.kinesis.reset();
  }
  if (!flow.kinesis && !flow.firehose)
    return Usage(fmt::format("flow '{}' has no destination: give --stream or --delivery-stream", flow.name));
  const bool kinesis = flow.kinesis.has_value();
  if (!kinesis && args.partition_key)
    return Usage("--partition-key is for Kinesis streams (--stream); Firehose takes no partition key");
  if (!kinesis && args.no_aggregate)
    return Usage("--no-aggregate is for Kinesis streams (--stream); Firehose records are not aggregated");
  if (args.partition_key) {
    flow.kinesis->partition_key = config::PartitionKeyOptions{};
    flow.kinesis->partition_key.text = *args.partition_key;
    flow.kinesis->partition_key.kind = *args.partition_key == "random"
                                           ? config::PartitionKeyOptions::Kind::kRandom
                                           : config::PartitionKeyOptions::Kind::kTemplate;
  }
  if (args.no_aggregate) flow.kinesis->aggregate = false;
  if (args.compression)
    (kinesis ? flow.kinesis->compression : flow.firehose->compression) = *args.compression;
  if (!args.endpoint.empty())
    (kinesis ? config.aws.kinesis_endpoint : config.aws.firehose_endpoint) = args.endpoint;
  if (!args.region.empty()) config.aws.region = args.region;
  if (!args.profile.empty()) config.aws.profile = args.profile;
  // A shell tool speaks when something is wrong; the config's level counts only when it sets one.
  if (!args.log_level.empty()) {
    config.log_level = args.log_level;
  } else if (!base || !config.locations.contains("log_level")) {
    config.log_level = "warn";
  }
  config.flows.clear();
  config.flows.push_back(std::move(flow));
  return config;
}

}  // namespace ferry::cli
