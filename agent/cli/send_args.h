// SendArgs: the command line of `ferry send`, and the config it sends with: the flow of `-c FILE`
// [`--flow NAME`] (its framing, plugins, destination settings, aws section and memory_limit), or the
// defaults without -c, with the flags laid over it. Pure: nothing is opened or asked here.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/delivery/payload_compression.h"

namespace ferry::cli {

enum class ProgressMode { kAuto, kAlways, kNever };

struct SendArgs {
  std::string stream;           // --stream: Kinesis Data Streams
  std::string delivery_stream;  // --delivery-stream: Firehose
  std::string region;
  std::string endpoint;  // the destination's endpoint URL
  std::string profile;
  std::optional<std::string> partition_key;  // "random", a fixed key or a template
  bool no_aggregate = false;
  std::optional<Compression> compression;  // of the payloads sent
  std::string config_file;                 // -c; empty: none
  std::string flow;                        // --flow
  ProgressMode progress = ProgressMode::kAuto;
  Duration max_retry_time{300000};
  std::string dead_letter;          // --dead-letter; empty: kDefaultDeadLetterFile
  std::string log_level;            // --log-level; empty: the config's, or warn
  std::vector<std::string> inputs;  // "-" is standard input; none: standard input
  bool help = false;
};

// Refused records land here, in the working folder, unless --dead-letter names another file.
inline constexpr std::string_view kDefaultDeadLetterFile = "ferry-send-dead-letters.jsonl";

inline constexpr std::string_view kSendUsage =
    "usage: ferry send (--stream S | --delivery-stream D) [--region R] [--endpoint URL] [--profile P]\n"
    "                  [--partition-key K] [--no-aggregate] [--compression gzip|zstd]\n"
    "                  [-c FILE [--flow NAME]] [--progress auto|always|never] [--max-retry-time D]\n"
    "                  [--dead-letter FILE] [--log-level L] [FILE... | -]";

// What `ferry send --help` prints after the usage.
inline constexpr std::string_view kSendHelp =
    "Sends the FILEs (gzip and zstd read decompressed), or standard input, once through the pipeline of\n"
    "`ferry run` (-c: that config's flow, its framing and plugins; flags override), then exits. A progress\n"
    "line on a terminal, a summary on standard error. Refused records go to ferry-send-dead-letters.jsonl.\n"
    "Exit status: 0 every record acknowledged; 1 some refused, not sent (--max-retry-time, default 5m) or\n"
    "an input unreadable; 2 bad usage or config; 130 after Ctrl-C (a second one stops at once).\n"
    "See ferry(1).";

// Flags take their value as the next argument or after '='; "--" ends the flags. Errors name the flag.
Result<SendArgs> ParseSendArgs(std::span<const std::string_view> args);

// The config to send with: base is the loaded -c file (nullopt without -c). The result holds exactly one
// flow, with the flags applied: the destination (--stream replaces a Firehose destination and keeps a
// Kinesis one's settings), --endpoint as that service's endpoint, --region, --profile, --partition-key,
// --no-aggregate, --compression, and the log level. Errors (kInvalidArgument) say which flag or flow.
Result<config::Config> SendConfig(const SendArgs& args, std::optional<config::Config> base);

}  // namespace ferry::cli
