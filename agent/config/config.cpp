// Config: the field tables of ferry.yaml and the loader that runs them.
#include "agent/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <set>
#include <type_traits>

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "agent/config/agent_json.h"
#include "agent/config/destination_fields.h"
#include "agent/config/plugin_fields.h"
#include "agent/config/schema.h"
#include "agent/core/errno_text.h"
#include "agent/ops/listen_address.h"
#include "agent/source/discovery.h"

namespace ferry::config {
namespace {

// A proxy URL may carry a password (http://user:pass@host:port); `ferry check` shows it masked.
std::string MaskProxyPassword(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto from = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto at = url.find('@', from);
  if (at == std::string::npos) return url;
  const auto colon = url.find(':', from);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "****" + url.substr(at);
}

const std::vector<Field<AwsOptions>>& AwsFields() {
  static const std::vector<Field<AwsOptions>> fields = [] {
    std::vector<Field<AwsOptions>> f = {
        StringField<AwsOptions>(
            "region", &AwsOptions::region, "$AWS_REGION",
            "AWS region of the streams; falls back to AWS_REGION, AWS_DEFAULT_REGION, the "
            "profile's region, then the EC2 instance metadata service"),
        MaskedField<AwsOptions>("access_key_id", &AwsOptions::access_key_id, "(provider chain)",
                                "static access key id; without it the provider chain is used: environment, "
                                "web identity, profile, ECS container, EC2 instance metadata"),
        SecretField<AwsOptions>("secret_access_key", &AwsOptions::secret_access_key,
                                "static secret key, required with access_key_id"),
        SecretField<AwsOptions>("session_token", &AwsOptions::session_token,
                                "session token for temporary static credentials"),
        StringField<AwsOptions>("profile", &AwsOptions::profile, "$AWS_PROFILE or default",
                                "profile of ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE, "
                                "AWS_SHARED_CREDENTIALS_FILE) used by the chain and for the region"),
        StringField<AwsOptions>("role_arn", &AwsOptions::role_arn, "",
                                "role assumed with STS AssumeRole on top of the chain's credentials; "
                                "refreshed before it expires"),
        SecretField<AwsOptions>("external_id", &AwsOptions::external_id,
                                "external id sent with role_arn, when the role's trust policy asks for one"),
        StringField<AwsOptions>("role_session_name", &AwsOptions::role_session_name, "ferry-<hostname>",
                                "session name of assumed roles, seen in CloudTrail"),
        BoolField<AwsOptions>("use_fips", &AwsOptions::use_fips,
                              "FIPS 140 endpoints (kinesis-fips, firehose-fips, sts-fips); also "
                              "AWS_USE_FIPS_ENDPOINT=true"),
        BoolField<AwsOptions>("imds_v1_fallback", &AwsOptions::imds_v1_fallback,
                              "let the EC2 metadata provider fall back to IMDSv1 when no session token is "
                              "given; off: IMDSv2 only"),
        StringField<AwsOptions>("kinesis_endpoint", &AwsOptions::kinesis_endpoint,
                                "https://kinesis.<region>.amazonaws.com",
                                "Kinesis endpoint URL: a VPC interface endpoint or a local emulator; "
                                "also AWS_ENDPOINT_URL_KINESIS"),
        StringField<AwsOptions>("firehose_endpoint", &AwsOptions::firehose_endpoint,
                                "https://firehose.<region>.amazonaws.com",
                                "Firehose endpoint URL: a VPC interface endpoint or a test endpoint; also "
                                "AWS_ENDPOINT_URL_FIREHOSE"),
        StringField<AwsOptions>("sts_endpoint", &AwsOptions::sts_endpoint,
                                "https://sts.<region>.amazonaws.com",
                                "STS endpoint URL for role_arn and web identity: a VPC endpoint; also "
                                "AWS_ENDPOINT_URL_STS"),
        StringField<AwsOptions>("ca_file", &AwsOptions::ca_file, "(system store)",
                                "PEM file of the CAs trusted for TLS to AWS; certificates and host names "
                                "are always verified"),
        StringField<AwsOptions>("proxy", &AwsOptions::proxy, "$HTTPS_PROXY",
                                "HTTP proxy for AWS requests, http://[user:password@]host:port; falls back "
                                "to HTTPS_PROXY (https) and HTTP_PROXY (http)"),
        StringField<AwsOptions>("no_proxy", &AwsOptions::no_proxy, "$NO_PROXY",
                                "comma-separated hosts and domains reached without the proxy"),
        DurationField<AwsOptions>("connect_timeout", &AwsOptions::connect_timeout, Duration(100),
                                  Duration(300000), "TCP and TLS connect timeout (100ms to 5m)"),
        DurationField<AwsOptions>("request_timeout", &AwsOptions::request_timeout, Duration(1000),
                                  Duration(600000), "whole-request timeout (1s to 10m)"),
    };
    // The proxy's password is masked wherever the effective config is shown.
    for (auto& field : f) {
      if (field.name != "proxy") continue;
      field.emit = [](YAML::Emitter& e, const AwsOptions& in) {
        if (!in.proxy.empty()) e << YAML::Key << "proxy" << YAML::Value << MaskProxyPassword(in.proxy);
      };
    }
    return f;
  }();
  return fields;
}

const std::vector<Field<SpoolOptions>>& SpoolFields() {
  static const std::vector<Field<SpoolOptions>> fields = {
      EnumField<SpoolOptions, SpoolOptions::Mode>(
          "mode", &SpoolOptions::mode,
          {{"on_failure", SpoolOptions::Mode::kOnFailure}, {"always", SpoolOptions::Mode::kAlways}},
          "on_failure | always",
          "on_failure: only what could not be sent (and what follows it while the spool holds data) is "
          "written; always: every request is written before it is sent"),
      ByteSizeField<SpoolOptions>("max_bytes", &SpoolOptions::max_bytes, 1ULL << 20, 1ULL << 40,
                                  "spool size per flow (1MiB to 1024GiB); when it is full, records wait in "
                                  "memory, then in the files"),
  };
  return fields;
}

const std::vector<Field<RetryOptions>>& RetryFields() {
  static const std::vector<Field<RetryOptions>> fields = {
      DurationField<RetryOptions>("backoff_base", &RetryOptions::backoff_base, Duration(1), Duration(60000),
                                  "the first wait before a retry (1ms to 1m); each further wait doubles, "
                                  "with full jitter"),
      DurationField<RetryOptions>("backoff_cap", &RetryOptions::backoff_cap, Duration(10), Duration(600000),
                                  "longest wait between retries (10ms to 10m, at least backoff_base)"),
      DurationField<RetryOptions>("slow_retry", &RetryOptions::slow_retry, Duration(1000), Duration(3600000),
                                  "retry interval for errors only an operator can fix: missing stream, "
                                  "denied access, KMS (1s to 1h)"),
  };
  return fields;
}

const std::vector<Field<MetricsOptions>>& MetricsFields() {
  static const std::vector<Field<MetricsOptions>> fields = {
      Field<MetricsOptions>{
          "listen", "host:port", MetricsOptions{}.listen,
          "address of the Prometheus endpoint (/metrics); ':9145' is the loopback too: only an address "
          "written out (0.0.0.0:9145, [::]:9145, a host's IP) lets other hosts scrape",
          false,
          [](const YAML::Node& n, const std::string& p, MetricsOptions& out, ParseContext& ctx) {
            std::string value;
            if (!ReadString(n, p, ctx, value)) return;
            auto address = ParseListenAddress(value);
            if (!address) {
              ctx.Fail(n, p, address.error().message());
              return;
            }
            out.listen = address->ToString();
          },
          [](YAML::Emitter& e, const MetricsOptions& in) {
            e << YAML::Key << "listen" << YAML::Value << in.listen;
          }},
  };
  return fields;
}

const std::vector<Field<MultilineOptions>>& MultilineFields() {
  static const std::vector<Field<MultilineOptions>> fields = {
      Field<MultilineOptions>{
          "start", "regex (RE2)", "",
          "a line matching this starts a new record; other lines join the one before", true,
          [](const YAML::Node& n, const std::string& p, MultilineOptions& out, ParseContext& ctx) {
            std::string value;
            if (!ReadString(n, p, ctx, value)) return;
            RE2 re(value, RE2::Quiet);
            if (!re.ok()) {
              ctx.Fail(n, p, fmt::format("not a valid regular expression: {}", re.error()));
              return;
            }
            out.start = std::move(value);
          },
          [](YAML::Emitter& e, const MultilineOptions& in) {
            e << YAML::Key << "start" << YAML::Value << YAML::SingleQuoted << in.start;
          }},
      DurationField<MultilineOptions>("timeout", &MultilineOptions::timeout,
                                      "a pending record is sent after this long without a new line"),
  };
  return fields;
}

// A nested section stored in a plain member (always present) or in a std::optional (present when given).
template <typename S, typename M, typename T>
Field<S> SectionField(std::string_view name, std::string_view doc, M S::*member,
                      const std::vector<Field<T>>& (*fields)()) {
  constexpr bool kOptional = !std::is_same_v<M, T>;
  return Field<S>{name,
                  "section",
                  "",
                  doc,
                  false,
                  [member, fields](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
                    T section;
                    ParseMap(n, p, fields(), section, ctx);
                    out.*member = std::move(section);
                  },
                  [name, member, fields](YAML::Emitter& e, const S& in) {
                    const T* section;
                    if constexpr (kOptional) {
                      if (!(in.*member).has_value()) return;
                      section = &*(in.*member);
                    } else {
                      section = &(in.*member);
                    }
                    e << YAML::Key << std::string(name) << YAML::Value;
                    EmitMap(e, fields(), *section);
                  }};
}

const std::vector<Field<FlowOptions>>& FlowFields() {
  static const std::vector<Field<FlowOptions>> fields = {
      StringField<FlowOptions>("name", &FlowOptions::name, "",
                               "unique name of the flow; checkpoints and metrics are kept by it", true),
      Field<FlowOptions>{"files", "list of globs", "", "files to tail (glob patterns)", true,
                         [](const YAML::Node& n, const std::string& p, FlowOptions& out, ParseContext& ctx) {
                           if (!ReadStringList(n, p, ctx, out.files)) return;
                           if (out.files.empty()) ctx.Fail(n, p, "needs at least one glob");
                           auto valid = Discovery::Create({out.files, {}, true});
                           if (!valid) ctx.Fail(n, p, valid.error().message());
                         },
                         [](YAML::Emitter& e, const FlowOptions& in) {
                           e << YAML::Key << "files" << YAML::Value << YAML::Flow << in.files;
                         }},
      Field<FlowOptions>{"exclude", "list of globs", "",
                         "files not to tail; a glob without '/' matches the file's base name", false,
                         [](const YAML::Node& n, const std::string& p, FlowOptions& out, ParseContext& ctx) {
                           if (!ReadStringList(n, p, ctx, out.exclude)) return;
                           auto valid = Discovery::Create({{"/ferry-exclude-check"}, out.exclude, true});
                           if (!valid) ctx.Fail(n, p, valid.error().message());
                         },
                         [](YAML::Emitter& e, const FlowOptions& in) {
                           if (!in.exclude.empty())
                             e << YAML::Key << "exclude" << YAML::Value << YAML::Flow << in.exclude;
                         }},
      BoolField<FlowOptions>("exclude_compressed", &FlowOptions::exclude_compressed,
                             "skip compressed rotations (*.gz *.bz2 *.xz *.zst *.zip *.lz4)"),
      EnumField<FlowOptions, StartAt>("start_at", &FlowOptions::start_at,
                                      {{"end", StartAt::kEnd}, {"beginning", StartAt::kBeginning}},
                                      "end | beginning",
                                      "where to start in files present at the first start; files appearing "
                                      "later are read from the beginning"),
      ByteSizeField<FlowOptions>(
          "max_record_bytes", &FlowOptions::max_record_bytes, 1, 10 << 20,
          "longest record; a longer line is split into records of this size (capped at "
          "what the destination takes: kinesis.max_record_size, 1000KiB with the "
          "newline for Firehose)"),
      EnumField<FlowOptions, Oversize>(
          "oversize", &FlowOptions::oversize,
          {{"split", Oversize::kSplit}, {"truncate", Oversize::kTruncate}}, "split | truncate",
          "what happens to a record over max_record_bytes: split into several, or cut and the rest dropped"),
      CountField<FlowOptions>("skip_header_lines", &FlowOptions::skip_header_lines, 0, 1'000'000,
                              "lines skipped at the start of every file read from its beginning"),
      SectionField<FlowOptions>("multiline", "records of several lines (stack traces)",
                                &FlowOptions::multiline, &MultilineFields),
      DurationField<FlowOptions>("partial_line_timeout", &FlowOptions::partial_line_timeout,
                                 "a last line without a newline is sent after the file is quiet this long"),
      CountField<FlowOptions>("max_open_files", &FlowOptions::max_open_files, 1, 1'000'000,
                              "open file descriptors of this flow at most; idle files are closed first"),
      DurationField<FlowOptions>(
          "close_inactive", &FlowOptions::close_inactive,
          "a file read to its end that has not grown this long is closed (and reopened "
          "when it grows)"),
      DurationField<FlowOptions>("scan_interval", &FlowOptions::scan_interval,
                                 "full rescan of the globs, for file systems without change events"),
      PluginsField(),
      SectionField<FlowOptions>("kinesis", "send to a Kinesis data stream with PutRecords",
                                &FlowOptions::kinesis, &KinesisFields),
      SectionField<FlowOptions>("firehose", "send to a Firehose delivery stream with PutRecordBatch",
                                &FlowOptions::firehose, &FirehoseFields),
  };
  return fields;
}

const std::vector<Field<Config>>& TopFields() {
  static const std::vector<Field<Config>> fields = {
      StringField<Config>("state_dir", &Config::state_dir, Config{}.state_dir,
                          "folder for checkpoints, spool and dead letters"),
      Field<Config>{
          "log_level", "trace | debug | info | warn | error", Config{}.log_level,
          "least severe log level written to stderr", false,
          [](const YAML::Node& n, const std::string& p, Config& out, ParseContext& ctx) {
            static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
            std::string value;
            if (!ReadString(n, p, ctx, value)) return;
            if (!kLevels.contains(value)) {
              ctx.Fail(n, p, fmt::format("'{}' is not one of: trace, debug, info, warn, error", value));
              return;
            }
            out.log_level = value;
          },
          [](YAML::Emitter& e, const Config& in) {
            e << YAML::Key << "log_level" << YAML::Value << in.log_level;
          }},
      Field<Config>{
          "log_format", "text | json", Config{}.log_format,
          "how log lines are written to stderr: text, or json (one object per line with time, level, "
          "flow, file and message, for journald or a log collector)",
          false,
          [](const YAML::Node& n, const std::string& p, Config& out, ParseContext& ctx) {
            std::string value;
            if (!ReadString(n, p, ctx, value)) return;
            if (value != "text" && value != "json") {
              ctx.Fail(n, p, fmt::format("'{}' is not one of: text, json", value));
              return;
            }
            out.log_format = value;
          },
          [](YAML::Emitter& e, const Config& in) {
            e << YAML::Key << "log_format" << YAML::Value << in.log_format;
          }},
      DurationField<Config>("shutdown_timeout", &Config::shutdown_timeout,
                            "on SIGTERM, how long requests in flight may take before ferry exits"),
      DurationField<Config>(
          "checkpoint_interval", &Config::checkpoint_interval,
          "how often acknowledged file offsets are made durable (fsync) under state_dir, and at shutdown; "
          "between those they are saved without fsync as they move"),
      ByteSizeField<Config>(
          "memory_limit", &Config::memory_limit,
          "bound on record bytes, request bodies and their answers held in memory, shared evenly between "
          "the flows; a flow's reading pauses when its share is reached"),
      SectionField<Config>("spool", "disk spool of undelivered records, per flow under state_dir/spool",
                           &Config::spool, &SpoolFields),
      SectionField<Config>("retry", "backoff between attempts to send", &Config::retry, &RetryFields),
      SectionField<Config>("aws", "AWS region, credentials and endpoints", &Config::aws, &AwsFields),
      SectionField<Config>("metrics",
                           "Prometheus metrics endpoint; off unless this section is given (`metrics: {}` "
                           "serves on 127.0.0.1:9145)",
                           &Config::metrics, &MetricsFields),
      Field<Config>{"flows", "list of flows", "",
                    "each flow tails files and ships their lines to one destination", true,
                    [](const YAML::Node& n, const std::string& p, Config& out, ParseContext& ctx) {
                      if (!n.IsSequence() || n.size() == 0) {
                        ctx.Fail(n, p, "expected a non-empty list of flows");
                        return;
                      }
                      std::set<std::string> names;
                      for (std::size_t i = 0; i < n.size(); ++i) {
                        std::string path = fmt::format("{}[{}]", p, i);
                        FlowOptions flow;
                        ParseMap(n[i], path, FlowFields(), flow, ctx);
                        if (!n[i].IsMap()) continue;
                        if (!flow.name.empty() && !names.insert(flow.name).second) {
                          ctx.Fail(n[i]["name"], JoinPath(path, "name"),
                                   fmt::format("flow name '{}' is used twice", flow.name));
                        }
                        if (!flow.kinesis && !flow.firehose) {
                          ctx.Fail(n[i], path,
                                   "needs a destination: add a 'kinesis' or a 'firehose' section");
                        } else if (flow.kinesis && flow.firehose) {
                          ctx.Fail(n[i]["firehose"], JoinPath(path, "firehose"),
                                   "a flow has one destination: 'kinesis' is given too (make two flows to "
                                   "send the same files to both)");
                        }
                        out.flows.push_back(std::move(flow));
                      }
                    },
                    [](YAML::Emitter& e, const Config& in) {
                      e << YAML::Key << "flows" << YAML::Value << YAML::BeginSeq;
                      for (const auto& flow : in.flows) EmitMap(e, FlowFields(), flow);
                      e << YAML::EndSeq;
                    }},
  };
  return fields;
}

template <typename S>
void DescribeFields(std::string& out, std::string_view prefix, const std::vector<Field<S>>& fields) {
  for (const auto& f : fields) DescribeKey(out, prefix, f);
}

}  // namespace

Result<Config> ParseConfig(std::string_view yaml_text, const std::string& source_name) {
  ParseContext ctx(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    ctx.FailAt(e.mark, "(document)", e.msg);
    return Error(ErrorCode::kInvalidArgument, ctx.errors().front());
  }
  Config config;
  config.file = source_name;
  if (root.IsNull()) {
    ctx.FailAt(YAML::Mark::null_mark(), "(document)", "the config is empty");
  } else if (!root.IsMap()) {
    ctx.Fail(root, "(document)", "expected a mapping of keys to values");
  } else {
    ParseMap(root, "", TopFields(), config, ctx);
  }
  if (!config.aws.access_key_id.empty() && config.aws.secret_access_key.empty()) {
    ctx.FailAt(root["aws"].Mark(), "aws.secret_access_key", "required when aws.access_key_id is set");
  }
  if (config.aws.access_key_id.empty() && !config.aws.session_token.empty()) {
    ctx.FailAt(root["aws"].Mark(), "aws.access_key_id", "required when aws.session_token is set");
  }
  if (config.aws.access_key_id.empty() && !config.aws.secret_access_key.empty()) {
    ctx.FailAt(root["aws"].Mark(), "aws.access_key_id", "required when aws.secret_access_key is set");
  }
  if (config.aws.role_arn.empty() && !config.aws.external_id.empty()) {
    ctx.FailAt(root["aws"].Mark(), "aws.role_arn", "required when aws.external_id is set");
  }
  if (config.aws.request_timeout < config.aws.connect_timeout) {
    ctx.FailAt(
        root["aws"].Mark(), "aws.request_timeout",
        fmt::format("{} is less than aws.connect_timeout ({})", FormatDuration(config.aws.request_timeout),
                    FormatDuration(config.aws.connect_timeout)));
  }
  if (config.retry.backoff_cap < config.retry.backoff_base) {
    // Point at the cap when it is given; a default cap is below a large base, so then at the base.
    const YAML::Node retry = root["retry"];
    const YAML::Node at = retry["backoff_cap"] ? retry["backoff_cap"] : retry["backoff_base"];
    ctx.FailAt(
        at.Mark(), "retry.backoff_cap",
        fmt::format("{} is less than retry.backoff_base ({})", FormatDuration(config.retry.backoff_cap),
                    FormatDuration(config.retry.backoff_base)));
  }
  if (!ctx.errors().empty()) {
    std::string all;
    for (const auto& e : ctx.errors()) all += (all.empty() ? "" : "\n") + e;
    return Error(ErrorCode::kInvalidArgument, all);
  }
  config.locations = std::move(ctx.locations());
  return config;
}

Result<std::string> ReadConfigText(const std::string& path) {
  // Not std::ifstream: it opens a directory without complaint and then reads nothing ("the config is
  // empty"), and its failures carry no reason.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                 fmt::format("{}: cannot open config file: {}", path, ErrnoText(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::kInvalidArgument, fmt::format("{}: is a directory, not a config file", path));
  }
  std::string text;
  char chunk[64 << 10];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Error(ErrorCode::kIo, fmt::format("{}: cannot read config file: {}", path, ErrnoText(err)));
    }
    if (n == 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      ::close(fd);
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("{}: larger than {} MiB, not a config file", path, kMaxConfigBytes >> 20));
    }
  }
  ::close(fd);
  return text;
}

Result<Config> LoadConfigFile(const std::string& path) {
  auto text = ReadConfigText(path);
  if (!text) return text.error();
  if (LooksLikeAgentJson(*text)) return ParseAgentJson(*text, path);
  return ParseConfig(*text, path);
}

std::string LocatedKey(const Config& config, std::string_view key) {
  if (auto it = config.locations.find(key); it != config.locations.end()) {
    return fmt::format("{}: {}", it->second, key);
  }
  return std::string(key);
}

std::string DescribeConfig(const Config& config) {
  YAML::Emitter out;
  EmitMap(out, TopFields(), config);
  return std::string(out.c_str()) + "\n";
}

std::string DescribeFlow(const FlowOptions& flow) {
  YAML::Emitter out;
  EmitMap(out, FlowFields(), flow);
  return std::string(out.c_str()) + "\n";
}

std::string DescribeKeys() {
  std::string out;
  DescribeFields(out, "", TopFields());
  DescribeFields(out, "spool", SpoolFields());
  DescribeFields(out, "retry", RetryFields());
  DescribeFields(out, "aws", AwsFields());
  DescribeFields(out, "metrics", MetricsFields());
  DescribeFields(out, "flows[]", FlowFields());
  DescribeFields(out, "flows[].multiline", MultilineFields());
  DescribeFields(out, "flows[].kinesis", KinesisFields());
  DescribeFields(out, "flows[].firehose", FirehoseFields());
  DescribePluginKeys(out, "flows[].plugins[]");
  return out;
}

}  // namespace ferry::config
