// MetricsTable: the rows, in the order a scrape lists them: reading, plugins, packing, sending, spool,
// billing.
#include "agent/ops/metrics_table.h"

#include <array>
#include <set>

namespace ferry {
namespace {

using enum MetricType;
constexpr double kMs = 0.001;

// Labels: `false` in the fourth place keeps a source-side figure to {flow}.
const std::array kRows = {
    // The source (FileTailer).
    CounterMetric{
        "records_read", {"ferry_read_lines_total", kCounter, "Lines (records) read from files."}, 1, false},
    CounterMetric{"bytes_read", {"ferry_read_bytes_total", kCounter, "Bytes read from files."}, 1, false},
    CounterMetric{"bytes_behind",
                  {"ferry_bytes_behind", kGauge,
                   "Bytes in the flow's files not read yet (their sizes minus the offsets read)."},
                  1,
                  false},
    CounterMetric{"files_open", {"ferry_files_open", kGauge, "Files the flow holds open."}, 1, false},
    CounterMetric{"files_known", {"ferry_files_known", kGauge, "Files the flow tracks."}, 1, false},
    CounterMetric{"oversize_records",
                  {"ferry_read_oversize_records_total", kCounter,
                   "Records longer than max_record_bytes (split or truncated)."},
                  1,
                  false},
    CounterMetric{"truncated_bytes",
                  {"ferry_read_truncated_bytes_total", kCounter, "Bytes cut off by oversize: truncate."},
                  1,
                  false},
    CounterMetric{
        "rotations", {"ferry_file_rotations_total", kCounter, "File rotations followed."}, 1, false},
    CounterMetric{"read_errors", {"ferry_read_errors_total", kCounter, "Errors reading files."}, 1, false},
    CounterMetric{"skipped_unreadable",
                  {"ferry_files_skipped_unreadable_total", kCounter, "Files skipped because unreadable."},
                  1,
                  false},
    CounterMetric{"checkpoint_writes",
                  {"ferry_checkpoint_writes_total", kCounter, "Checkpoint files written."},
                  1,
                  false},
    CounterMetric{"checkpoint_errors",
                  {"ferry_checkpoint_errors_total", kCounter, "Checkpoint writes that failed."},
                  1,
                  false},
    CounterMetric{"checkpoint_age_ms",
                  {"ferry_checkpoint_age_seconds", kGauge,
                   "Seconds since the last checkpoint write while acknowledged positions wait to be "
                   "written; 0 when the checkpoint is current."},
                  kMs,
                  false},
    // The plugin chain as a whole (per plugin: ferry_plugin_*).
    CounterMetric{"plugin_dropped",
                  {"ferry_plugins_dropped_records_total", kCounter, "Records dropped by the flow's plugins."},
                  1,
                  false},
    // Packing.
    CounterMetric{"kinesis_records",
                  {"ferry_kinesis_records_total", kCounter, "Kinesis records made (aggregates count once)."}},
    CounterMetric{
        "aggregated_records",
        {"ferry_kinesis_aggregated_records_total", kCounter, "User records packed into KPL aggregates."}},
    CounterMetric{"user_bytes",
                  {"ferry_kinesis_user_bytes_total", kCounter, "Bytes of the user records packed."}},
    CounterMetric{"kinesis_bytes",
                  {"ferry_kinesis_bytes_total", kCounter, "Bytes of the Kinesis records made."}},
    CounterMetric{"firehose_records",
                  {"ferry_firehose_records_total", kCounter, "Firehose records made (lines packed)."}},
    CounterMetric{"firehose_bytes",
                  {"ferry_firehose_bytes_total", kCounter, "Bytes of the Firehose records made."}},
    // Sending.
    CounterMetric{"records_sent",
                  {"ferry_acked_records_total", kCounter, "User records the endpoint acknowledged."}},
    CounterMetric{"record_bytes_sent",
                  {"ferry_acked_bytes_total", kCounter,
                   "Data bytes of the records the endpoint acknowledged, as sent (aggregated or packed)."}},
    CounterMetric{"kinesis_records_sent",
                  {"ferry_kinesis_acked_records_total", kCounter,
                   "Kinesis records acknowledged (an aggregate counts once)."}},
    CounterMetric{"firehose_records_sent",
                  {"ferry_firehose_acked_records_total", kCounter, "Firehose records acknowledged."}},
    CounterMetric{"payload_bytes",
                  {"ferry_sent_bytes_total", kCounter, "Request body bytes sent, retries included."}},
    CounterMetric{"records_unsent",
                  {"ferry_unsent_records", kGauge, "User records handed to the sender and not yet settled."}},
    CounterMetric{"requests",
                  {"ferry_requests_total", kCounter, "Requests sent, by outcome (failed: as a whole)."},
                  1,
                  true,
                  {"outcome", "ok"},
                  "request_failures"},
    CounterMetric{"request_failures",
                  {"ferry_requests_total", kCounter, "Requests sent, by outcome (failed: as a whole)."},
                  1,
                  true,
                  {"outcome", "failed"}},
    CounterMetric{"records_retried", {"ferry_retried_records_total", kCounter, "Records sent again."}},
    CounterMetric{
        "requests_split",
        {"ferry_requests_split_total", kCounter, "Requests refused as a whole and sent in halves."}},
    CounterMetric{"throttle_waits",
                  {"ferry_throttle_waits_total", kCounter,
                   "Request attempts held back by ferry's own rate limit (shard or stream limits)."}},
    CounterMetric{
        "throttle_wait_ms",
        {"ferry_throttle_wait_seconds_total", kCounter, "Time requests were held back by the limit."},
        kMs},
    CounterMetric{
        "shard_waits",
        {"ferry_kinesis_shard_waits_total", kCounter, "Request attempts held back by a busy shard."}},
    CounterMetric{"records_dead_lettered",
                  {"ferry_dead_lettered_records_total", kCounter,
                   "User records written to the dead-letter file (the endpoint refused them for good)."}},
    CounterMetric{"records_spooled",
                  {"ferry_spooled_records_total", kCounter, "User records written to the spool."}},
    // The spool.
    CounterMetric{"spool_bytes", {"ferry_spool_bytes", kGauge, "Bytes in the flow's spool."}},
    CounterMetric{"spool_entries", {"ferry_spool_entries", kGauge, "Entries in the spool not yet sent."}},
    CounterMetric{"spool_oldest_age_s",
                  {"ferry_spool_oldest_age_seconds", kGauge, "Age of the oldest entry in the spool."}},
    CounterMetric{"spool_entries_replayed",
                  {"ferry_spool_replayed_entries_total", kCounter, "Spool entries read back to send."}},
    CounterMetric{
        "spool_full_refusals",
        {"ferry_spool_full_refusals_total", kCounter, "Writes refused because the spool was full."}},
    CounterMetric{"spool_write_errors",
                  {"ferry_spool_write_errors_total", kCounter, "Spool writes that failed."}},
    CounterMetric{"spool_corruptions",
                  {"ferry_spool_corruptions_total", kCounter, "Corrupt spool entries found and skipped."}},
    CounterMetric{"compressed_bytes_in",
                  {"ferry_compression_input_bytes_total", kCounter, "Bytes given to payload compression."}},
    CounterMetric{"compressed_bytes_out",
                  {"ferry_compression_output_bytes_total", kCounter, "Bytes payload compression made."}},
    // What AWS bills (names agreed with the outputs' counters).
    CounterMetric{"put_payload_units",
                  {"ferry_kinesis_put_payload_units_total", kCounter,
                   "Kinesis PUT payload units (25 KiB chunks of each acknowledged record)."}},
    CounterMetric{"put_payload_units_unaggregated",
                  {"ferry_kinesis_put_payload_units_unaggregated_total", kCounter,
                   "PUT payload units the same user records would have cost as one Kinesis record each."}},
    CounterMetric{"billed_bytes",
                  {"ferry_firehose_billed_bytes_total", kCounter,
                   "Firehose billed bytes (each acknowledged record rounded up to 5 KB)."}},
    CounterMetric{"billed_bytes_unaggregated",
                  {"ferry_firehose_billed_bytes_unaggregated_total", kCounter,
                   "Billed bytes the same user records would have cost as one Firehose record each."}},
};

}  // namespace

std::span<const CounterMetric> FlowCounterMetrics() {
  return kRows;
}

namespace metric {
const MetricFamily kPluginRecordsIn{"ferry_plugin_records_in_total", kCounter,
                                    "Records given to the plugin."};
const MetricFamily kPluginRecordsOut{"ferry_plugin_records_out_total", kCounter,
                                     "Records the plugin passed on."};
const MetricFamily kPluginRecordsReplaced{"ferry_plugin_records_replaced_total", kCounter,
                                          "Records the plugin replaced."};
const MetricFamily kPluginRecordsDropped{"ferry_plugin_records_dropped_total", kCounter,
                                         "Records the plugin dropped."};
const MetricFamily kPluginRecordsErrored{"ferry_plugin_records_errored_total", kCounter,
                                         "Records the plugin failed on."};
const MetricFamily kPluginRecordsDeadLettered{"ferry_plugin_records_dead_lettered_total", kCounter,
                                              "Records the plugin sent to the dead-letter file."};
const MetricFamily kPluginSeconds{"ferry_plugin_seconds_total", kCounter, "Time spent in the plugin."};
const MetricFamily kEndpointErrors{"ferry_endpoint_errors_total", kCounter,
                                   "Errors the endpoint returned, by AWS error code (requests and records)."};
const MetricFamily kEndpointThrottles{"ferry_endpoint_throttles_total", kCounter,
                                      "Errors the endpoint returned that mean throttling."};
const MetricFamily kFileBytesBehind{"ferry_file_bytes_behind", kGauge,
                                    "Bytes not read yet of the files most behind (at most 10 per flow)."};
const MetricFamily kFlowInfo{"ferry_flow_info", kGauge, "The flow's destination; always 1."};
const MetricFamily kMemoryUsed{"ferry_memory_used_bytes", kGauge,
                               "Record and request bytes held in memory (counted against memory_limit)."};
const MetricFamily kMemoryLimit{"ferry_memory_limit_bytes", kGauge, "memory_limit."};
const MetricFamily kUptime{"ferry_uptime_seconds", kGauge, "Seconds since ferry started."};
const MetricFamily kCredentialRefreshes{"ferry_aws_credential_refreshes_total", kCounter,
                                        "AWS credential refreshes."};
const MetricFamily kCredentialRefreshFailures{"ferry_aws_credential_refresh_failures_total", kCounter,
                                              "AWS credential refreshes that failed."};
const MetricFamily kBuildInfo{"ferry_build_info", kGauge, "ferry's version; always 1."};
const MetricFamily kScrapes{"ferry_metrics_scrapes_total", kCounter, "Answers to /metrics."};
const MetricFamily kMetricsRefusedClients{"ferry_metrics_refused_connections_total", kCounter,
                                          "Connections to the metrics endpoint closed at once: too many."};
const MetricFamily kProcessCpu{"process_cpu_seconds_total", kCounter, "Total user and system CPU time."};
const MetricFamily kProcessResident{"process_resident_memory_bytes", kGauge, "Resident memory size."};
const MetricFamily kProcessVirtual{"process_virtual_memory_bytes", kGauge, "Virtual memory size."};
const MetricFamily kProcessOpenFds{"process_open_fds", kGauge, "Open file descriptors."};
const MetricFamily kProcessMaxFds{"process_max_fds", kGauge, "Limit of open file descriptors."};
const MetricFamily kProcessStartTime{"process_start_time_seconds", kGauge,
                                     "Start time of the process since the Unix epoch."};
}  // namespace metric

bool IsThrottlingCode(std::string_view code) {
  // "com.amazonaws.kinesis.v20131202#Foo" and "Foo:http://..." name Foo.
  if (auto hash = code.rfind('#'); hash != std::string_view::npos) code.remove_prefix(hash + 1);
  code = code.substr(0, code.find(':'));
  return code == "ProvisionedThroughputExceededException" || code == "KMSThrottlingException" ||
         code == "ThrottlingException" || code == "Throttling" || code == "ServiceUnavailableException" ||
         code == "LimitExceededException";
}

std::vector<std::string_view> ServedMetricNames() {
  std::set<std::string_view> names;
  for (const auto& row : kRows) names.insert(row.family.name);
  using namespace metric;
  for (const MetricFamily* f : {&kPluginRecordsIn,
                                &kPluginRecordsOut,
                                &kPluginRecordsReplaced,
                                &kPluginRecordsDropped,
                                &kPluginRecordsErrored,
                                &kPluginRecordsDeadLettered,
                                &kPluginSeconds,
                                &kEndpointErrors,
                                &kEndpointThrottles,
                                &kFileBytesBehind,
                                &kFlowInfo,
                                &kMemoryUsed,
                                &kMemoryLimit,
                                &kUptime,
                                &kCredentialRefreshes,
                                &kCredentialRefreshFailures,
                                &kBuildInfo,
                                &kScrapes,
                                &kMetricsRefusedClients,
                                &kProcessCpu,
                                &kProcessResident,
                                &kProcessVirtual,
                                &kProcessOpenFds,
                                &kProcessMaxFds,
                                &kProcessStartTime}) {
    names.insert(f->name);
  }
  return {names.begin(), names.end()};
}

}  // namespace ferry
