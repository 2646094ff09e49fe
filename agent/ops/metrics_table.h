// MetricsTable: which metric each of a flow's named counters (Flow::Counters(), the figures `ferry status`
// shows) becomes, with its type, help and unit conversion, and the families the exposition adds beside
// them (per plugin, per error code, per file, memory, process, build). One table, so the names served,
// the docs and the Grafana dashboard's test (tests/unit/grafana_dashboard_test.cpp) read the same list.
// Constant data; any thread.
#pragma once

#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/ops/prometheus_text.h"

namespace ferry {

// A counter of Flow::Counters() served as a metric with labels {flow} or {flow, destination}. A counter a
// flow does not report (a Firehose flow has no Kinesis counters; no spool, no spool counters) is not served
// for it.
struct CounterMetric {
  std::string_view counter;
  MetricFamily family;
  double scale = 1;         // unit conversion to the base unit (ms -> seconds: 0.001)
  bool destination = true;  // labelled with the flow's destination (stream or delivery stream) too
  std::pair<std::string_view, std::string_view> label{};  // a fixed label, e.g. outcome="failed"
  std::string_view minus{};  // a counter subtracted from this one (requests - request_failures)
};

std::span<const CounterMetric> FlowCounterMetrics();

// The families that are not one counter each.
namespace metric {
// Per plugin {flow, plugin, position}: PluginCounters of the flow's chain.
extern const MetricFamily kPluginRecordsIn;
extern const MetricFamily kPluginRecordsOut;
extern const MetricFamily kPluginRecordsReplaced;
extern const MetricFamily kPluginRecordsDropped;
extern const MetricFamily kPluginRecordsErrored;
extern const MetricFamily kPluginRecordsDeadLettered;
extern const MetricFamily kPluginSeconds;
// {flow, destination, code}: Flow::Errors().
extern const MetricFamily kEndpointErrors;
// {flow, destination}: the errors of Flow::Errors() whose code means throttling.
extern const MetricFamily kEndpointThrottles;
// {flow, file}: bytes behind of the files most behind, at most kMaxFilesPerFlow per flow.
extern const MetricFamily kFileBytesBehind;
// {flow, destination, service}: 1 per flow, naming its destination.
extern const MetricFamily kFlowInfo;
extern const MetricFamily kMemoryUsed;
extern const MetricFamily kMemoryLimit;
extern const MetricFamily kUptime;
extern const MetricFamily kCredentialRefreshes;
extern const MetricFamily kCredentialRefreshFailures;
extern const MetricFamily kBuildInfo;
extern const MetricFamily kScrapes;
extern const MetricFamily kMetricsRefusedClients;
// The process, under the names of Prometheus client libraries' process collector.
extern const MetricFamily kProcessCpu;
extern const MetricFamily kProcessResident;
extern const MetricFamily kProcessVirtual;
extern const MetricFamily kProcessOpenFds;
extern const MetricFamily kProcessMaxFds;
extern const MetricFamily kProcessStartTime;
}  // namespace metric

// Files per flow served by ferry_file_bytes_behind: those most behind, so the series stay bounded however
// many files a flow tails (the flow's total is ferry_bytes_behind).
inline constexpr std::size_t kMaxFilesPerFlow = 10;

// Whether an endpoint error code means throttling (Kinesis ProvisionedThroughputExceededException,
// KMSThrottlingException, ThrottlingException; Firehose ServiceUnavailableException).
bool IsThrottlingCode(std::string_view code);

// Every metric name ferry can serve, each once.
std::vector<std::string_view> ServedMetricNames();

}  // namespace ferry
