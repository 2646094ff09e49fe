// Config: ferry.yaml as typed option structs. Each struct's defaults live here, once; the field
// tables in config.cpp map YAML keys onto these members and document them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/core/units.h"

namespace ferry::config {

struct AwsOptions {
  std::string region;         // empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then IMDS
  std::string access_key_id;  // empty: the provider chain (environment, web identity, profile, ECS, IMDS)
  std::string secret_access_key;
  std::string session_token;
  std::string profile;            // empty: AWS_PROFILE, then "default"
  std::string role_arn;           // assumed (STS AssumeRole) with whatever credentials the chain found
  std::string external_id;        // sent with role_arn when the role's trust policy wants one
  std::string role_session_name;  // empty: ferry-<hostname>
  bool use_fips = false;  // FIPS endpoints (kinesis-fips.<region>.amazonaws.com); also AWS_USE_FIPS_ENDPOINT
  bool imds_v1_fallback = false;  // allow IMDSv1 when the metadata service refuses a session token
  std::string kinesis_endpoint;   // empty: AWS_ENDPOINT_URL_KINESIS, then https://kinesis.<region>.<domain>
  std::string firehose_endpoint;  // empty: AWS_ENDPOINT_URL_FIREHOSE, then https://firehose.<region>.<domain>
  std::string sts_endpoint;       // empty: AWS_ENDPOINT_URL_STS, then https://sts.<region>.<domain>
  std::string ca_file;            // PEM bundle trusted for TLS instead of the system store
  std::string proxy;              // http://[user:pass@]host:port; empty: HTTPS_PROXY / HTTP_PROXY
  std::string no_proxy;           // hosts never proxied; empty: NO_PROXY
  Duration connect_timeout{10000};
  Duration request_timeout{30000};
};

// Compression of each record's data as it is sent (the consumer decompresses).
enum class Compression { kNone, kGzip, kZstd };

// How records get their partition keys (see kinesis/partition_key_policy.h for the rules).
struct PartitionKeyOptions {
  enum class Kind { kRandom, kTemplate, kJsonField, kRegex };
  Kind kind = Kind::kRandom;
  std::string text;  // the template, the field path, or the regex
  std::string fallback = "random";
};

struct KinesisOptions {
  std::string stream;
  Duration max_age{1000};  // a record waits at most this long before its request is sent
  PartitionKeyOptions partition_key;
  std::string explicit_hash_key;  // decimal; empty: none
  bool aggregate = true;          // KPL aggregation per predicted shard
  std::uint64_t aggregate_max_bytes = 50 << 10;
  std::uint64_t aggregate_max_records = 1000;
  Duration shard_map_refresh{60000};  // ListShards again this often (and when a prediction was wrong)
  // PutRecords bodies in JSON 1.1 or CBOR 1.1; auto: CBOR at AWS's own endpoints, JSON at any other URL
  // (emulators such as kinesalite store CBOR record data wrongly).
  enum class Protocol { kAuto, kJson, kCbor };
  Protocol protocol = Protocol::kAuto;
  Compression compression = Compression::kNone;
  std::uint64_t rate_limit = 100;           // percent of each shard's write limits; 0: no limiting
  std::uint64_t max_record_size = 1 << 20;  // the stream's MaxRecordSize (1 MiB unless raised, up to 10)
  bool one_request_per_shard = false;       // keeps each shard's records in order
};

struct FirehoseOptions {
  std::string delivery_stream;
  Duration max_age{1000};                     // a line waits at most this long before its request is sent
  bool pack = true;                           // lines joined into records (each line ends with its newline)
  std::uint64_t pack_max_bytes = 1000 << 10;  // largest packed record
  Compression compression = Compression::kNone;
};

enum class StartAt { kEnd, kBeginning };
enum class Oversize { kSplit, kTruncate };

struct MultilineOptions {
  std::string start;       // RE2 pattern matching the first line of a record
  Duration timeout{2000};  // a pending record is sent after this long without new lines
};

struct FlowOptions {
  std::string name;
  std::vector<std::string> files;    // globs: * ? [...] and ** for any depth of folders
  std::vector<std::string> exclude;  // globs; without '/' they match the base name
  bool exclude_compressed = true;    // skip *.gz *.bz2 *.xz *.zst *.zip *.lz4
  StartAt start_at = StartAt::kEnd;
  std::uint64_t max_record_bytes = 1 << 20;  // longer records are split or truncated (see oversize)
  Oversize oversize = Oversize::kSplit;
  std::uint64_t skip_header_lines = 0;  // lines skipped at the start of each file read from its start
  std::optional<MultilineOptions> multiline;
  Duration partial_line_timeout{5000};  // a last line without newline is sent after this quiet time
  std::uint64_t max_open_files = 1024;  // open descriptors of this flow at most
  Duration close_inactive{60000};       // a file at its end without growth this long is closed
  Duration scan_interval{30000};        // full rescan for file systems without change events
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

// Backoff between attempts: exponential with full jitter, from backoff_base up to backoff_cap. Errors that
// only an operator can fix (missing stream, denied access, KMS) are retried every slow_retry.
struct RetryOptions {
  Duration backoff_base{100};
  Duration backoff_cap{10000};
  Duration slow_retry{60000};
};

struct Config {
  std::string file;  // where it was read from, for messages
  // Where each key given in the file has its value: key path ("aws.ca_file", "flows[0].files") ->
  // "file:line:column". Keys left at their defaults are absent. For errors found after parsing
  // (ops/preflight.h), which are located like the parser's own.
  std::map<std::string, std::string, std::less<>> locations;
  std::string state_dir = "/var/lib/ferry";
  std::string log_level = "info";
  Duration shutdown_timeout{10000};
  Duration checkpoint_interval{5000};
  std::uint64_t memory_limit = 4ULL << 20;
  SpoolOptions spool;
  RetryOptions retry;
  AwsOptions aws;
  std::vector<FlowOptions> flows;
};

// Parses YAML text; source_name is used in error messages. All errors are reported at once, one per line.
Result<Config> ParseConfig(std::string_view yaml_text, const std::string& source_name);
// Reads and parses the file at path. A path that cannot be read says why, naming it: "<path>: cannot open
// config file: Permission denied (EACCES)", "<path>: is a directory, not a config file". Pipes and
// /dev/stdin are read too (`-c <(...)`); at most kMaxConfigBytes.
Result<Config> LoadConfigFile(const std::string& path);
inline constexpr std::size_t kMaxConfigBytes = std::size_t{4} << 20;

// "file:line:column: key" when the key was given in the config's file, else "key": how errors about a key
// begin, so they read like the parser's own.
std::string LocatedKey(const Config& config, std::string_view key);

// The effective config (defaults filled in, secrets hidden) as YAML, for `ferry check`.
std::string DescribeConfig(const Config& config);

// Every key with its type, default and meaning, one per line, for `ferry check --keys` and the docs.
std::string DescribeKeys();

}  // namespace ferry::config
