// MetricsExposition: the text the metrics endpoint serves (Prometheus text format 0.0.4), made from the
// same figures as `ferry status` (status_report.h): each flow's Counters(), Errors(), Files() and plugin
// counters, mapped to metric names by the one table of metrics_table.h, plus the daemon's memory, the
// process (/proc) and the build. Loop thread (it reads the flows).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/core/named_counter.h"
#include "agent/ops/metrics_server.h"
#include "agent/ops/process_figures.h"
#include "agent/ops/status_report.h"
#include "agent/pipeline/flow.h"

namespace ferry {

// One flow's figures, copied out of the Flow (FlowFiguresOf) or made by a test.
struct FlowFigures {
  std::string name;
  std::string service;      // "kinesis" or "firehose"
  std::string destination;  // the stream or delivery stream
  std::vector<NamedCounter> counters;
  std::map<std::string, std::uint64_t> errors;
  std::vector<std::pair<std::string, PluginCounters>> plugins;
  std::vector<TailedFileStatus> files;
};

FlowFigures FlowFiguresOf(const Flow& flow, std::string service, std::string destination);

struct MetricsFacts {
  DaemonFacts daemon;  // version, uptime and credential refreshes
  std::uint64_t memory_used = 0;
  std::uint64_t memory_limit = 0;
  ProcessFigures process;
  MetricsServerCounters server;
};

std::string MetricsText(const MetricsFacts& facts, const std::vector<FlowFigures>& flows);

}  // namespace ferry
