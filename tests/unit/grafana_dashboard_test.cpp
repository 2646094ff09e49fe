// Tests of packaging/grafana/ferry-dashboard.json against the metrics table (agent/ops/metrics_table.h):
// every metric name in the dashboard's queries is one ferry serves, so a renamed metric cannot leave an
// empty panel behind.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include "agent/ops/metrics_table.h"

namespace ferry {
namespace {

// Every string under the keys that hold PromQL: targets' "expr", variables' "definition" and "query".
void CollectQueries(const rapidjson::Value& v, std::vector<std::string>& out) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      const std::string key = it->name.GetString();
      if ((key == "expr" || key == "definition" || key == "query") && it->value.IsString()) {
        out.emplace_back(it->value.GetString());
      } else {
        CollectQueries(it->value, out);
      }
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) CollectQueries(e, out);
  }
}

TEST_CASE("the Grafana dashboard asks only for metrics ferry serves", "[grafana_dashboard]") {
  std::ifstream in(FERRY_GRAFANA_DASHBOARD);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  std::vector<std::string> queries;
  CollectQueries(doc, queries);
  REQUIRE(queries.size() >= 10);

  const auto served = ServedMetricNames();
  const std::set<std::string, std::less<>> known(served.begin(), served.end());
  static const std::regex kName(R"(\b(?:ferry|process)_[a-zA-Z0-9_:]*)");
  std::set<std::string> used;
  for (const std::string& q : queries) {
    if (q == "prometheus") continue;  // the data source variable's plugin type
    std::size_t names = 0;
    for (auto it = std::sregex_iterator(q.begin(), q.end(), kName); it != std::sregex_iterator(); ++it) {
      ++names;
      const std::string name = it->str();
      INFO("query: " << q);
      CHECK(known.contains(name));
      used.insert(name);
    }
    INFO("query: " << q);
    CHECK(names > 0);  // every query is about a ferry metric
  }
  // The panels the issue asks for, the billing comparison among them.
  for (const char* name :
       {"ferry_read_lines_total", "ferry_acked_records_total", "ferry_bytes_behind", "ferry_spool_bytes",
        "ferry_endpoint_errors_total", "ferry_endpoint_throttles_total",
        "ferry_kinesis_put_payload_units_total", "ferry_kinesis_put_payload_units_unaggregated_total",
        "ferry_firehose_billed_bytes_total", "ferry_firehose_billed_bytes_unaggregated_total",
        "ferry_memory_used_bytes", "process_cpu_seconds_total"}) {
    INFO(name);
    CHECK(used.contains(name));
  }
}

}  // namespace
}  // namespace ferry
