// LogFields: the marks found and taken out in one pass.
#include "agent/core/log_fields.h"

#include <array>

namespace ferry {
namespace {

constexpr std::array<std::string_view, 1> kKeys = {"file"};

}  // namespace

std::string StripLogFields(std::string_view message, std::vector<LogField>* fields) {
  std::string out;
  out.reserve(message.size());
  std::size_t at = 0;
  while (at < message.size()) {
    const std::size_t mark = message.find(kLogFieldMark, at);
    if (mark == std::string_view::npos) {
      out.append(message.substr(at));
      break;
    }
    out.append(message.substr(at, mark - at));
    const std::string_view rest = message.substr(mark + 1);
    const std::size_t equals = rest.find('=');
    const std::size_t end = rest.find(kLogFieldMark);
    bool known = false;
    if (equals != std::string_view::npos && end != std::string_view::npos && equals < end) {
      for (std::string_view key : kKeys) known = known || rest.substr(0, equals) == key;
    }
    if (!known) {
      out += kLogFieldMark;  // a NUL of the text itself
      at = mark + 1;
      continue;
    }
    const std::string_view value = rest.substr(equals + 1, end - equals - 1);
    if (fields != nullptr) fields->push_back({rest.substr(0, equals), value});
    out.append(value);
    at = mark + 1 + end + 1;
  }
  return out;
}

}  // namespace ferry
