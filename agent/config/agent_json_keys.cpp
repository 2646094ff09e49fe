// AgentJsonKeys: the tables of agent keys ferry accepts without using, and the endpoint helpers.
#include "agent/config/agent_json_keys.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include <fmt/format.h>

namespace ferry::config {

const std::string_view kCloudWatchInstead =
    "not used: ferry sends no CloudWatch metrics; `ferry status` shows its counters";

const std::string_view kBufferInstead =
    "ferry fills each request up to the API's limits (500 records; 5MiB for PutRecords, 4MiB for "
    "PutRecordBatch) and sends it when full or after max_age (maxBufferAgeMillis)";

namespace {

constexpr std::string_view kThreads =
    "ferry sends from one event-loop thread with a bounded number of requests in flight, not from a "
    "thread pool";
constexpr std::string_view kLogFiles =
    "ferry logs to stderr (the journal, under systemd), which keeps and rotates the log";
constexpr std::string_view kLogMetrics =
    "ferry does not log its metrics periodically: `ferry status` shows them when asked";
constexpr std::string_view kQueues =
    "ferry bounds what it holds by memory_limit and the disk spool, not by queue lengths";
constexpr std::string_view kRetry =
    "ferry's backoff is retry.backoff_base and retry.backoff_cap, one setting for all flows";
constexpr std::string_view kPolling =
    "ferry is told of file changes by inotify and rescans the globs every scan_interval";

const std::vector<UnusedKey>& UnusedGlobals() {
  static const std::vector<UnusedKey> keys = {
      {"checkpointFile",
       "ferry keeps checkpoints under state_dir (/var/lib/ferry), not in this file: they survive a reboot, "
       "which /var/run does not"},
      {"checkpointTimeToLiveDays",
       "ferry drops a file's checkpoint once the file is gone and all read from it is acknowledged"},
      {"checkpoints.queryTimeoutSeconds", "ferry's checkpoints are files under state_dir, not a database"},
      {"checkpoints.connectionTimeoutSeconds",
       "ferry's checkpoints are files under state_dir, not a database"},
      {"log.file", kLogFiles},
      {"log.maxBackupIndex", kLogFiles},
      {"log.maxFileSize", kLogFiles},
      {"log.emitMetrics", kLogMetrics},
      {"log.emitInternalMetrics", kLogMetrics},
      {"log.statusReportingPeriodSeconds", kLogMetrics},
      {"maxSendingThreads", kThreads},
      {"maxSendingThreadsPerCore", kThreads},
      {"sendingThreadsKeepAliveMillis", kThreads},
      {"sendingThreadsMaxQueueSize", kThreads},
      {"maxConnections", kThreads},
      {"connectionTTLMillis", "ferry keeps its connections alive and reuses them; not configurable"},
      {"useTcpKeepAlive", "ferry keeps its connections alive and reuses them; not configurable"},
      {"socketTimeoutMillis", "ferry times out whole requests instead (aws.request_timeout)"},
      {"useHttpGzip",
       "ferry does not gzip request bodies (kinesis.compression and firehose.compression compress the "
       "records themselves, which consumers must then decompress)"},
      {"userDefinedCredentialsProvider.classname",
       "ferry cannot load Java classes: credentials come from its provider chain (environment, web "
       "identity, profile with credential_process, ECS, EC2)"},
      {"userDefinedCredentialsProvider.location",
       "ferry cannot load Java classes: credentials come from its provider chain (environment, web "
       "identity, profile with credential_process, ECS, EC2)"},
      {"userAgent", "ferry sends its own User-Agent"},
      {"userAgentOverride", "ferry sends its own User-Agent"},
  };
  return keys;
}

const std::vector<UnusedKey>& UnusedFlowKeys() {
  static const std::vector<UnusedKey> keys = {
      {"maxBufferSizeRecords", kBufferInstead},    {"maxBufferSizeBytes", kBufferInstead},
      {"retryInitialBackoffMillis", kRetry},       {"retryMaxBackoffMillis", kRetry},
      {"publishQueueCapacity", kQueues},           {"waitOnFullPublishQueueMillis", kQueues},
      {"waitOnEmptyPublishQueueMillis", kQueues},  {"waitOnFullRetryQueueMillis", kQueues},
      {"minTimeBetweenFilePollsMillis", kPolling}, {"maxTimeBetweenFileTrackerRefreshMillis", kPolling},
      {"log.emitInternalMetrics", kLogMetrics},
  };
  return keys;
}

const UnusedKey* FindUnused(const std::vector<UnusedKey>& keys, std::string_view key) {
  for (const auto& unused : keys) {
    if (unused.key == key) return &unused;
  }
  return nullptr;
}

// The keys ferry converts, for the hint after an unknown key (the unused ones are in the tables above).
constexpr std::string_view kFlowKeys[] = {"filePattern",           "kinesisStream",
                                          "deliveryStream",        "initialPosition",
                                          "maxBufferAgeMillis",    "multiLineStartPattern",
                                          "skipHeaderLines",       "truncatedRecordTerminator",
                                          "partitionKeyOption",    "aggregatedRecordSizeBytes",
                                          "dataProcessingOptions", "fileFooterPattern"};
constexpr std::string_view kGlobalKeys[] = {"flows",
                                            "awsAccessKeyId",
                                            "awsSecretAccessKey",
                                            "assumeRoleARN",
                                            "assumeRoleExternalId",
                                            "kinesis.endpoint",
                                            "kinesis.region",
                                            "firehose.endpoint",
                                            "sts.endpoint",
                                            "shutdownTimeoutMillis",
                                            "log.level",
                                            "connectionTimeoutMillis"};

bool SameIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

// An endpoint as the agent takes it (a host name alone means https) as ferry's URL.
std::string EndpointUrl(const std::string& endpoint) {
  return endpoint.find("://") == std::string::npos ? "https://" + endpoint : endpoint;
}

// The region in an AWS endpoint's host name (kinesis.us-west-2.amazonaws.com, vpce-...kinesis.eu-west-1
// .vpce.amazonaws.com), or "": ferry signs for a region, where the agent's SDK took it from the endpoint.
std::string RegionOf(const std::string& url) {
  std::size_t from = url.find("://");
  from = from == std::string::npos ? 0 : from + 3;
  const std::string host = url.substr(from, url.find_first_of(":/", from) - from);
  if (host.find(".amazonaws.com") == std::string::npos) return "";
  std::size_t start = 0;
  while (start < host.size()) {
    const std::size_t end = std::min(host.find('.', start), host.size());
    const std::string label = host.substr(start, end - start);
    // A region: letters, then at least two dashes, ending in a digit (us-west-2, us-gov-east-1).
    if (label.size() >= 9 && std::isdigit(static_cast<unsigned char>(label.back())) &&
        std::count(label.begin(), label.end(), '-') >= 2 &&
        std::isalpha(static_cast<unsigned char>(label[0]))) {
      return label;
    }
    start = end + 1;
  }
  return "";
}

const UnusedKey* FindUnusedGlobal(std::string_view key) {
  return FindUnused(UnusedGlobals(), key);
}
const UnusedKey* FindUnusedFlowKey(std::string_view key) {
  return FindUnused(UnusedFlowKeys(), key);
}

std::string UnknownKeyHint(std::string_view key, bool flow_key) {
  std::vector<std::string_view> all;
  if (flow_key) {
    all.assign(std::begin(kFlowKeys), std::end(kFlowKeys));
  } else {
    all.assign(std::begin(kGlobalKeys), std::end(kGlobalKeys));
  }
  for (const auto& unused : UnusedGlobals()) all.push_back(unused.key);
  for (const auto& unused : UnusedFlowKeys()) all.push_back(unused.key);
  for (std::string_view candidate : all) {
    if (SameIgnoringCase(candidate, key)) return fmt::format(" (did you mean {}?)", candidate);
  }
  return " (man ferry.yaml, AGENT.JSON, lists them)";
}

}  // namespace ferry::config
