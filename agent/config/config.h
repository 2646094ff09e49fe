// Config: ferry.yaml as typed option structs. The field tables in config.cpp map YAML keys onto these
// members and document them, showing each member's default. A default lives in one place: here for what
// only the config knows, and in the module's own option struct for what a module owns (the tailer's and
// framer's options, the destination sections, the sender's retries, the aws section), from which
// the config takes it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/aws/aws_options.h"
#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/delivery/retry_options.h"
#include "agent/firehose/delivery_options.h"
#include "agent/kinesis/stream_options.h"
#include "agent/source/record_framer.h"
#include "agent/source/tailer_options.h"
#include "plugins/plugin_kind.h"

namespace ferry::config {

// The aws section is the AWS room's own option struct: its defaults live there.
using AwsOptions = aws::AwsOptions;

// The destination sections are the outputs' own option structs: their defaults live there.
using KinesisOptions = kinesis::StreamOptions;
using PartitionKeyOptions = kinesis::PartitionKeyOptions;
using FirehoseOptions = firehose::DeliveryOptions;

struct MultilineOptions {
  std::string start;                                     // RE2 pattern matching a record's first line
  Duration timeout = TailerOptions{}.multiline_timeout;  // a pending record is sent after this quiet time
};

struct FlowOptions {
  std::string name;
  std::vector<std::string> files;    // globs: * ? [...] and ** for any depth of folders
  std::vector<std::string> exclude;  // globs; without '/' they match the base name
  bool exclude_compressed = true;    // skip *.gz *.bz2 *.xz *.zst *.zip *.lz4
  // The source's and the framer's keys take their defaults from the modules' option structs.
  StartAt start_at = TailerOptions{}.start_at;
  std::uint64_t max_record_bytes = FramerOptions{}.max_record_bytes;  // longer records: see oversize
  Oversize oversize = FramerOptions{}.oversize;
  std::uint64_t skip_header_lines = FramerOptions{}.skip_header_lines;
  std::optional<MultilineOptions> multiline;
  Duration partial_line_timeout = TailerOptions{}.partial_line_timeout;  // a last line without newline
  std::uint64_t max_open_files = TailerOptions{}.max_open_files;
  Duration close_inactive = TailerOptions{}.close_inactive;  // a quiet file at its end is closed
  Duration scan_interval = TailerOptions{}.scan_interval;    // full rescan, for file systems without events
  // What each record passes before it is sent, in order (plugins/builtin_plugins.h).
  std::vector<plugins::PluginSpec> plugins;
  // The destination: exactly one of them.
  std::optional<KinesisOptions> kinesis;
  std::optional<FirehoseOptions> firehose;
};

// The disk spool (DESIGN.md §3), one folder per flow under state_dir/spool.
struct SpoolOptions {
  // on_failure: only what could not be sent (and everything behind it while the spool holds data) is written;
  // always: every request is written ahead of sending.
  enum class Mode { kOnFailure, kAlways };
  Mode mode = Mode::kOnFailure;
  std::uint64_t max_bytes = 1ULL << 30;  // per flow; when full, records wait in memory and then in the files
};

// The Prometheus endpoint (ops/metrics_server.h): off unless the `metrics` section is given.
struct MetricsOptions {
  // host:port, [ipv6]:port or :port (ops/listen_address.h). An empty host is the loopback: other hosts
  // can scrape only where an address such as 0.0.0.0 is written out.
  std::string listen = "127.0.0.1:9145";

  bool operator==(const MetricsOptions&) const = default;
};

// Backoff between attempts: the sender's own options (delivery/retry_options.h).
using RetryOptions = ferry::RetryOptions;

struct Config {
  std::string file;  // where it was read from, for messages
  // Where each key given in the file has its value: key path ("aws.ca_file", "flows[0].files") ->
  // "file:line:column". Keys left at their defaults are absent. For errors found after parsing
  // (ops/preflight.h), which are located like the parser's own.
  std::map<std::string, std::string, std::less<>> locations;
  // What the loader noticed but did not refuse, one line each ("file:line:col: key: ..."): the keys of a
  // Kinesis Agent agent.json that ferry treats differently (agent_json.h). Preflight reports them.
  std::vector<std::string> warnings;
  std::string state_dir = "/var/lib/ferry";
  std::string log_level = "info";
  std::string log_format = "text";  // text | json (ops/json_log_sink.h)
  Duration shutdown_timeout{10000};
  Duration checkpoint_interval = TailerOptions{}.checkpoint_interval;
  std::uint64_t memory_limit = 4ULL << 20;
  SpoolOptions spool;
  RetryOptions retry;
  AwsOptions aws;
  std::optional<MetricsOptions> metrics;  // none: no metrics endpoint
  std::vector<FlowOptions> flows;
};

// Parses YAML text; source_name is used in error messages. All errors are reported at once, one per line.
Result<Config> ParseConfig(std::string_view yaml_text, const std::string& source_name);
// Reads and parses the file at path: a Kinesis Agent agent.json (agent_json.h tells it by its first
// character, '{') through ParseAgentJson, any other file as ferry.yaml. A path that cannot be read says why,
// naming it: "<path>: cannot open config file: Permission denied (EACCES)", "<path>: is a directory, not a
// config file". Pipes and /dev/stdin are read too (`-c <(...)`); at most kMaxConfigBytes.
Result<Config> LoadConfigFile(const std::string& path);
// The text of the config file at path, read as LoadConfigFile reads it (the same errors).
Result<std::string> ReadConfigText(const std::string& path);
inline constexpr std::size_t kMaxConfigBytes = std::size_t{4} << 20;

// "file:line:column: key" when the key was given in the config's file, else "key": how errors about a key
// begin, so they read like the parser's own.
std::string LocatedKey(const Config& config, std::string_view key);

// The effective config (defaults filled in, secrets hidden) as YAML, for `ferry check`.
std::string DescribeConfig(const Config& config);

// One flow's effective options (defaults filled in, its plugins' options included) as YAML: a canonical
// form, so two flows whose texts are equal are built alike (ops/reload_plan.h compares them).
std::string DescribeFlow(const FlowOptions& flow);

// Every key with its type, default and meaning, one per line, for `ferry check --keys` and the docs.
std::string DescribeKeys();

}  // namespace ferry::config
