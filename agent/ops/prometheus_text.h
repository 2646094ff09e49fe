// PrometheusText: builds one scrape in the Prometheus text exposition format 0.0.4. Samples are added in
// any order; each metric family is written once, with its # HELP and # TYPE lines, followed by all its
// samples in the order they were added. Label values are escaped (\\, \", \n), so a flow or file name
// cannot break the format. Single-threaded, built and thrown away per scrape.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry {

enum class MetricType { kCounter, kGauge };

struct MetricFamily {
  std::string_view name;
  MetricType type;
  std::string_view help;
};

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // A family added twice keeps the help and type of its first sample.
  void Add(const MetricFamily& family, const MetricLabels& labels, double value);
  std::string Render() const;

 private:
  struct Family {
    MetricFamily meta;
    std::string samples;
  };
  std::vector<Family> families_;
  std::map<std::string_view, std::size_t, std::less<>> index_;
};

// Escapes a label value: backslash, double quote and newline (the format's only escapes).
std::string EscapeLabelValue(std::string_view value);
// Escapes help text: backslash and newline.
std::string EscapeHelp(std::string_view help);
// A sample value: integers without exponent up to 2^53, "+Inf", "-Inf", "NaN".
std::string FormatSampleValue(double value);

}  // namespace ferry
