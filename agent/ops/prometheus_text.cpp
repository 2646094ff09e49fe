// PrometheusText: families are kept in the order first seen, so a scrape reads in the order of the table.
#include "agent/ops/prometheus_text.h"

#include <cmath>

#include <fmt/format.h>

namespace ferry {

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
    return fmt::format("{}", static_cast<std::int64_t>(value));
  return fmt::format("{}", value);  // shortest form that reads back as the same double
}

void PrometheusText::Add(const MetricFamily& family, const MetricLabels& labels, double value) {
  auto [it, added] = index_.try_emplace(family.name, families_.size());
  if (added) families_.push_back(Family{family, {}});
  std::string& out = families_[it->second].samples;
  out += family.name;
  if (!labels.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [name, label_value] : labels) {
      if (!first) out += ',';
      first = false;
      out += name;
      out += "=\"";
      out += EscapeLabelValue(label_value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += FormatSampleValue(value);
  out += '\n';
}

std::string PrometheusText::Render() const {
  std::string out;
  for (const Family& f : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.meta.name, EscapeHelp(f.meta.help), f.meta.name,
                       f.meta.type == MetricType::kCounter ? "counter" : "gauge");
    out += f.samples;
  }
  return out;
}

}  // namespace ferry
