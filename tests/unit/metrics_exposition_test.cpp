// Tests of MetricsText (agent/ops/metrics_exposition.h) and its table (agent/ops/metrics_table.h): flows'
// figures as `ferry status` reads them, rendered as Prometheus text and read back line by line.
#include "agent/ops/metrics_exposition.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "agent/ops/metrics_table.h"

namespace ferry {
namespace {

// Sample lines by their whole series ("name{labels}") -> value; checks the HELP/TYPE lines on the way.
std::map<std::string, double> ReadExposition(const std::string& text) {
  std::map<std::string, double> samples;
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$)");
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      INFO(line);
      CHECK(typed.insert(name).second);  // one TYPE per family
      continue;
    }
    std::smatch m;
    INFO(line);
    REQUIRE(std::regex_match(line, m, kSample));
    CHECK(typed.contains(m[1].str()));  // samples follow their family's TYPE
    CHECK(samples.emplace(m[1].str() + m[2].str(), std::stod(m[3].str())).second);  // no series twice
  }
  return samples;
}

FlowFigures KinesisFlow() {
  FlowFigures f;
  f.name = "web";
  f.service = "kinesis";
  f.destination = "web-logs";
  // Every counter the table knows, valued by its place, so each row's mapping is visible.
  std::uint64_t v = 100;
  for (const CounterMetric& row : FlowCounterMetrics()) {
    bool known = false;
    for (const auto& [n, _] : f.counters) known |= n == row.counter;
    if (!known) f.counters.emplace_back(row.counter, v++);
  }
  f.errors = {{"ProvisionedThroughputExceededException", 7}, {"InternalFailure", 2}, {"transport", 1}};
  PluginCounters grep{.records_in = 50,
                      .records_out = 40,
                      .replaced = 0,
                      .dropped = 10,
                      .errored = 0,
                      .dead_lettered = 0,
                      .time_us = 2500};
  f.plugins = {{"grep", grep}, {"grep", PluginCounters{}}};
  return f;
}

std::uint64_t CounterOf(const FlowFigures& f, std::string_view name) {
  for (const auto& [n, v] : f.counters) {
    if (n == name) return v;
  }
  FAIL("no counter " << name);
  return 0;
}

TEST_CASE("every row of the table is served for a flow that reports its counter", "[metrics_exposition]") {
  const FlowFigures flow = KinesisFlow();
  MetricsFacts facts;
  facts.daemon.version = "1.2.3";
  const auto samples = ReadExposition(MetricsText(facts, {flow}));
  for (const CounterMetric& row : FlowCounterMetrics()) {
    std::string series = std::string(row.family.name) + "{flow=\"web\"";
    if (row.destination) series += ",destination=\"web-logs\"";
    if (!row.label.first.empty()) series += fmt::format(",{}=\"{}\"", row.label.first, row.label.second);
    series += "}";
    INFO(series);
    REQUIRE(samples.contains(series));
    double want = static_cast<double>(CounterOf(flow, row.counter));
    // requests - request_failures; never below 0 (here the failures' made-up value is the larger).
    if (!row.minus.empty()) want = std::max(0.0, want - static_cast<double>(CounterOf(flow, row.minus)));
    CHECK(samples.at(series) == Approx(want * row.scale));
  }
}

TEST_CASE("milliseconds become seconds; requests split by outcome add up", "[metrics_exposition]") {
  FlowFigures flow = KinesisFlow();
  flow.counters = {
      {"throttle_wait_ms", 1500}, {"requests", 10}, {"request_failures", 3}, {"checkpoint_age_ms", 250}};
  const auto s = ReadExposition(MetricsText({}, {flow}));
  CHECK(s.at("ferry_throttle_wait_seconds_total{flow=\"web\",destination=\"web-logs\"}") == 1.5);
  CHECK(s.at("ferry_checkpoint_age_seconds{flow=\"web\"}") == 0.25);
  CHECK(s.at("ferry_requests_total{flow=\"web\",destination=\"web-logs\",outcome=\"ok\"}") == 7);
  CHECK(s.at("ferry_requests_total{flow=\"web\",destination=\"web-logs\",outcome=\"failed\"}") == 3);
}

TEST_CASE("a counter a flow does not report is not served for it", "[metrics_exposition]") {
  FlowFigures firehose;
  firehose.name = "fh";
  firehose.service = "firehose";
  firehose.destination = "fh-stream";
  firehose.counters = {{"records_sent", 5}, {"billed_bytes", 10240}};
  const std::string text = MetricsText({}, {firehose});
  const auto s = ReadExposition(text);
  CHECK(s.at("ferry_firehose_billed_bytes_total{flow=\"fh\",destination=\"fh-stream\"}") == 10240);
  CHECK(text.find("ferry_kinesis_put_payload_units_total") == std::string::npos);
  CHECK(text.find("ferry_spool_bytes") == std::string::npos);
  CHECK(s.at("ferry_flow_info{flow=\"fh\",destination=\"fh-stream\",service=\"firehose\"}") == 1);
}

TEST_CASE("errors by code, throttles among them, and plugins by name and place", "[metrics_exposition]") {
  const auto s = ReadExposition(MetricsText({}, {KinesisFlow()}));
  CHECK(s.at("ferry_endpoint_errors_total{flow=\"web\",destination=\"web-logs\",code="
             "\"ProvisionedThroughputExceededException\"}") == 7);
  CHECK(s.at("ferry_endpoint_errors_total{flow=\"web\",destination=\"web-logs\",code=\"transport\"}") == 1);
  CHECK(s.at("ferry_endpoint_throttles_total{flow=\"web\",destination=\"web-logs\"}") == 7);
  CHECK(s.at("ferry_plugin_records_dropped_total{flow=\"web\",plugin=\"grep\",position=\"0\"}") == 10);
  CHECK(s.at("ferry_plugin_records_dropped_total{flow=\"web\",plugin=\"grep\",position=\"1\"}") == 0);
  CHECK(s.at("ferry_plugin_seconds_total{flow=\"web\",plugin=\"grep\",position=\"0\"}") == 0.0025);
  CHECK(IsThrottlingCode("com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException"));
  CHECK(IsThrottlingCode("ServiceUnavailableException:http://internal.amazon.com/coral/"));
  CHECK_FALSE(IsThrottlingCode("InternalFailure"));
}

TEST_CASE("bytes behind per file: the files most behind, at most the cap, one series a path",
          "[metrics_exposition]") {
  FlowFigures flow = KinesisFlow();
  for (int i = 0; i < 30; ++i) {
    TailedFileStatus f;
    f.path = fmt::format("/var/log/app/{:02}.log", i);
    f.size = 1000 + static_cast<std::uint64_t>(i);
    f.offset = 0;
    flow.files.push_back(f);
  }
  TailedFileStatus rotated;  // the same path as 29, rotated and still draining
  rotated.path = "/var/log/app/29.log";
  rotated.size = 500;
  rotated.offset = 100;
  flow.files.push_back(rotated);
  const auto s = ReadExposition(MetricsText({}, {flow}));
  std::size_t files = 0;
  for (const auto& [series, _] : s) files += series.rfind("ferry_file_bytes_behind{", 0) == 0;
  CHECK(files == kMaxFilesPerFlow);
  CHECK(s.at("ferry_file_bytes_behind{flow=\"web\",file=\"/var/log/app/29.log\"}") == 1029 + 400);
  CHECK(s.at("ferry_file_bytes_behind{flow=\"web\",file=\"/var/log/app/20.log\"}") == 1020);
  CHECK_FALSE(s.contains("ferry_file_bytes_behind{flow=\"web\",file=\"/var/log/app/19.log\"}"));
}

TEST_CASE("two flows share each family's header; the daemon's figures are served", "[metrics_exposition]") {
  FlowFigures other = KinesisFlow();
  other.name = "app\"1";
  MetricsFacts facts;
  facts.daemon.version = "0.9.0";
  facts.daemon.uptime_seconds = 12.5;
  facts.memory_used = 1024;
  facts.memory_limit = 4 << 20;
  facts.process = ReadProcessFigures();
  facts.server.scrapes = 3;
  const std::string text = MetricsText(facts, {KinesisFlow(), other});
  const auto s = ReadExposition(text);
  CHECK(s.at("ferry_build_info{version=\"0.9.0\"}") == 1);
  CHECK(s.at("ferry_memory_used_bytes") == 1024);
  CHECK(s.at("ferry_memory_limit_bytes") == 4 << 20);
  CHECK(s.at("ferry_uptime_seconds") == 12.5);
  CHECK(s.at("ferry_metrics_scrapes_total") == 3);
  CHECK(s.at("process_open_fds") > 0);
  CHECK(s.contains("process_cpu_seconds_total"));
  CHECK(s.contains("process_resident_memory_bytes"));
  CHECK(s.contains("process_max_fds"));
  CHECK(s.contains("process_start_time_seconds"));
  CHECK(s.contains("ferry_read_lines_total{flow=\"app\\\"1\"}"));
  // Every name served is in the list of names (what the dashboard's test checks against).
  const auto names = ServedMetricNames();
  const std::set<std::string_view> known(names.begin(), names.end());
  for (const auto& [series, _] : s) {
    const std::string name = series.substr(0, series.find('{'));
    INFO(name);
    CHECK(known.contains(name));
    CHECK((name.rfind("ferry_", 0) == 0 || name.rfind("process_", 0) == 0));
  }
}

TEST_CASE("metric names follow the Prometheus conventions", "[metrics_exposition]") {
  for (const CounterMetric& row : FlowCounterMetrics()) {
    const std::string_view name = row.family.name;
    INFO(name);
    CHECK(std::regex_match(std::string(name), std::regex("^ferry_[a-z0-9_]+$")));
    const bool total = name.ends_with("_total");
    CHECK(total == (row.family.type == MetricType::kCounter));
    // Base units: no milliseconds or kibibytes in a name, and a scaled row is a seconds row.
    CHECK(name.find("_ms") == std::string_view::npos);
    if (row.scale != 1) CHECK(name.find("seconds") != std::string_view::npos);
  }
}

}  // namespace
}  // namespace ferry
