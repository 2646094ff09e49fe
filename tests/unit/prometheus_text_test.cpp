// Tests of PrometheusText (agent/ops/prometheus_text.h): the text exposition format 0.0.4.
#include "agent/ops/prometheus_text.h"

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

namespace ferry {
namespace {

const MetricFamily kLines{"ferry_read_lines_total", MetricType::kCounter, "Lines read."};
const MetricFamily kSpool{"ferry_spool_bytes", MetricType::kGauge, "Bytes in the spool."};

TEST_CASE("each family has its HELP and TYPE once, then its samples in order", "[prometheus_text]") {
  PrometheusText text;
  text.Add(kLines, {{"flow", "a"}}, 3);
  text.Add(kSpool, {{"flow", "a"}}, 10);
  text.Add(kLines, {{"flow", "b"}}, 4);
  CHECK(text.Render() ==
        "# HELP ferry_read_lines_total Lines read.\n"
        "# TYPE ferry_read_lines_total counter\n"
        "ferry_read_lines_total{flow=\"a\"} 3\n"
        "ferry_read_lines_total{flow=\"b\"} 4\n"
        "# HELP ferry_spool_bytes Bytes in the spool.\n"
        "# TYPE ferry_spool_bytes gauge\n"
        "ferry_spool_bytes{flow=\"a\"} 10\n");
}

TEST_CASE("label values are escaped, so a name cannot break the format", "[prometheus_text]") {
  CHECK(EscapeLabelValue("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  PrometheusText text;
  text.Add(kLines, {{"flow", "x\"} 1\nevil_metric 2"}, {"file", "C:\\logs\\a.log"}}, 1);
  const std::string out = text.Render();
  CHECK(out.find(
            "ferry_read_lines_total{flow=\"x\\\"} 1\\nevil_metric 2\",file=\"C:\\\\logs\\\\a.log\"} 1\n") !=
        std::string::npos);
  CHECK(out.find("\nevil_metric") == std::string::npos);
  CHECK(EscapeHelp("a\\b\nc\"") == "a\\\\b\\nc\"");
}

TEST_CASE("sample values: integers exactly, fractions, and the special values", "[prometheus_text]") {
  CHECK(FormatSampleValue(0) == "0");
  CHECK(FormatSampleValue(18446744073709551615.0) != "");
  CHECK(FormatSampleValue(9007199254740991.0) == "9007199254740991");
  CHECK(FormatSampleValue(0.25) == "0.25");
  CHECK(FormatSampleValue(1.5e-3) == "0.0015");
  CHECK(FormatSampleValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(FormatSampleValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(FormatSampleValue(std::nan("")) == "NaN");
  CHECK(std::stod(FormatSampleValue(1e300)) == 1e300);
}

TEST_CASE("a sample without labels has no braces", "[prometheus_text]") {
  PrometheusText text;
  text.Add(kSpool, {}, 7);
  CHECK(text.Render().find("\nferry_spool_bytes 7\n") != std::string::npos);
}

}  // namespace
}  // namespace ferry
