// MetricsExposition: walks the table once per flow; families already emitted by an earlier flow gather
// the later flows' samples under their one # HELP/# TYPE (prometheus_text.h).
#include "agent/ops/metrics_exposition.h"

#include <algorithm>
#include <string_view>

#include "agent/ops/metrics_table.h"

namespace ferry {

FlowFigures FlowFiguresOf(const Flow& flow, std::string service, std::string destination) {
  FlowFigures out;
  out.name = flow.name();
  out.service = std::move(service);
  out.destination = std::move(destination);
  out.counters = flow.Counters();
  out.errors = flow.Errors();
  const PluginChain& chain = flow.plugins();
  for (std::size_t i = 0; i < chain.size(); ++i)
    out.plugins.emplace_back(std::string(chain.name(i)), chain.counters(i));
  out.files = flow.Files();
  return out;
}

namespace {

void AddFlow(PrometheusText& text, const FlowFigures& flow) {
  const std::string_view name = flow.name;
  const std::string_view dest = flow.destination;
  const MetricLabels flow_labels{{"flow", name}};
  const MetricLabels dest_labels{{"flow", name}, {"destination", dest}};
  text.Add(metric::kFlowInfo, {{"flow", name}, {"destination", dest}, {"service", flow.service}}, 1);

  auto find = [&flow](std::string_view counter) -> const std::uint64_t* {
    for (const auto& [n, v] : flow.counters) {
      if (n == counter) return &v;
    }
    return nullptr;
  };
  for (const CounterMetric& row : FlowCounterMetrics()) {
    const std::uint64_t* value = find(row.counter);
    if (value == nullptr) continue;  // the flow does not report it (another output, no spool)
    std::uint64_t v = *value;
    if (!row.minus.empty()) {
      const std::uint64_t* minus = find(row.minus);
      v -= std::min(v, minus != nullptr ? *minus : 0);
    }
    MetricLabels labels = row.destination ? dest_labels : flow_labels;
    if (!row.label.first.empty()) labels.push_back(row.label);
    text.Add(row.family, labels, static_cast<double>(v) * row.scale);
  }

  std::uint64_t throttles = 0;
  for (const auto& [code, count] : flow.errors) {
    MetricLabels labels = dest_labels;
    labels.emplace_back("code", code);
    text.Add(metric::kEndpointErrors, labels, static_cast<double>(count));
    if (IsThrottlingCode(code)) throttles += count;
  }
  text.Add(metric::kEndpointThrottles, dest_labels, static_cast<double>(throttles));

  for (std::size_t i = 0; i < flow.plugins.size(); ++i) {
    const auto& [plugin, c] = flow.plugins[i];
    // Two plugins of one kind in a chain are told apart by their place in it.
    const std::string position = std::to_string(i);
    const MetricLabels labels{{"flow", name}, {"plugin", plugin}, {"position", position}};
    text.Add(metric::kPluginRecordsIn, labels, static_cast<double>(c.records_in));
    text.Add(metric::kPluginRecordsOut, labels, static_cast<double>(c.records_out));
    text.Add(metric::kPluginRecordsReplaced, labels, static_cast<double>(c.replaced));
    text.Add(metric::kPluginRecordsDropped, labels, static_cast<double>(c.dropped));
    text.Add(metric::kPluginRecordsErrored, labels, static_cast<double>(c.errored));
    text.Add(metric::kPluginRecordsDeadLettered, labels, static_cast<double>(c.dead_lettered));
    text.Add(metric::kPluginSeconds, labels, static_cast<double>(c.time_us) / 1e6);
  }

  // The files most behind, at most kMaxFilesPerFlow; a path known twice (a rotated file still draining
  // beside its successor) is one series, the sum.
  std::map<std::string_view, std::uint64_t> by_path;
  for (const auto& f : flow.files) by_path[f.path] += f.bytes_behind();
  std::vector<std::pair<std::string_view, std::uint64_t>> files(by_path.begin(), by_path.end());
  const std::size_t shown = std::min(files.size(), kMaxFilesPerFlow);
  std::partial_sort(files.begin(), files.begin() + static_cast<std::ptrdiff_t>(shown), files.end(),
                    [](const auto& a, const auto& b) {
                      return a.second != b.second ? a.second > b.second : a.first < b.first;
                    });
  for (std::size_t i = 0; i < shown; ++i)
    text.Add(metric::kFileBytesBehind, {{"flow", name}, {"file", files[i].first}},
             static_cast<double>(files[i].second));
}

}  // namespace

std::string MetricsText(const MetricsFacts& facts, const std::vector<FlowFigures>& flows) {
  PrometheusText text;
  text.Add(metric::kBuildInfo, {{"version", facts.daemon.version}}, 1);
  text.Add(metric::kUptime, {}, facts.daemon.uptime_seconds);
  text.Add(metric::kMemoryUsed, {}, static_cast<double>(facts.memory_used));
  text.Add(metric::kMemoryLimit, {}, static_cast<double>(facts.memory_limit));
  for (const FlowFigures& flow : flows) AddFlow(text, flow);
  if (!facts.daemon.credentials_provider.empty()) {
    text.Add(metric::kCredentialRefreshes, {}, static_cast<double>(facts.daemon.credential_refreshes));
    text.Add(metric::kCredentialRefreshFailures, {},
             static_cast<double>(facts.daemon.credential_refresh_failures));
  }
  text.Add(metric::kScrapes, {}, static_cast<double>(facts.server.scrapes));
  text.Add(metric::kMetricsRefusedClients, {}, static_cast<double>(facts.server.refused_clients));
  const ProcessFigures& p = facts.process;
  if (p.cpu_seconds) text.Add(metric::kProcessCpu, {}, *p.cpu_seconds);
  if (p.resident_bytes) text.Add(metric::kProcessResident, {}, static_cast<double>(*p.resident_bytes));
  if (p.virtual_bytes) text.Add(metric::kProcessVirtual, {}, static_cast<double>(*p.virtual_bytes));
  if (p.open_fds) text.Add(metric::kProcessOpenFds, {}, static_cast<double>(*p.open_fds));
  if (p.max_fds) text.Add(metric::kProcessMaxFds, {}, static_cast<double>(*p.max_fds));
  if (p.start_time_seconds) text.Add(metric::kProcessStartTime, {}, *p.start_time_seconds);
  return text.Render();
}

}  // namespace ferry
