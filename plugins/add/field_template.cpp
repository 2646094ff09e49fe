// FieldTemplate: parses "${name}" variables once, at config time.
#include "plugins/add/field_template.h"

#include <utility>

namespace ferry::plugins {

std::optional<FieldTemplate> FieldTemplate::Parse(std::string_view source, std::string* error) {
  FieldTemplate t;
  t.source_ = std::string(source);
  std::string text;
  auto flush = [&] {
    if (!text.empty()) t.pieces_.push_back({Part::kText, std::exchange(text, {})});
  };
  std::size_t i = 0;
  while (i < source.size()) {
    if (source.compare(i, 3, "$${") == 0) {
      text += "${";
      i += 3;
      continue;
    }
    if (source.compare(i, 2, "${") != 0) {
      text += source[i++];
      continue;
    }
    const std::size_t close = source.find('}', i + 2);
    if (close == std::string_view::npos) {
      *error = "\"${\" at character " + std::to_string(i + 1) +
               " has no closing \"}\" (write \"$${\" for a literal \"${\")";
      return std::nullopt;
    }
    const std::string_view name = source.substr(i + 2, close - i - 2);
    Part part;
    if (name == "hostname") {
      part = Part::kHostname;
    } else if (name == "file") {
      part = Part::kFile;
    } else if (name == "flow") {
      part = Part::kFlow;
    } else {
      *error = "unknown variable ${" + std::string(name) +
               "} (known: ${hostname}, ${file}, ${flow}; write \"$${\" for a literal \"${\")";
      return std::nullopt;
    }
    flush();
    t.pieces_.push_back({part, {}});
    i = close + 1;
  }
  flush();
  return t;
}

bool FieldTemplate::uses_file() const {
  for (const auto& p : pieces_) {
    if (p.part == Part::kFile) return true;
  }
  return false;
}

void FieldTemplate::AppendTo(std::string& out, std::string_view hostname, std::string_view flow,
                             std::string_view file) const {
  for (const auto& p : pieces_) {
    switch (p.part) {
      case Part::kText:
        out += p.text;
        break;
      case Part::kHostname:
        out += hostname;
        break;
      case Part::kFile:
        out += file;
        break;
      case Part::kFlow:
        out += flow;
        break;
    }
  }
}

}  // namespace ferry::plugins
