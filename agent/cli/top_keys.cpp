// DecodeTopKeys: single bytes, plus the arrow keys' CSI and SS3 forms (ESC [ C, ESC O C: the latter when
// the terminal is in application cursor mode).
#include "agent/cli/top_keys.h"

namespace ferry::cli {

std::vector<TopKey> DecodeTopKeys(std::string_view bytes) {
  using Action = TopKey::Action;
  std::vector<TopKey> keys;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\x1b') {
      if (i + 2 < bytes.size() && (bytes[i + 1] == '[' || bytes[i + 1] == 'O')) {
        const char final = bytes[i + 2];
        if (final == 'C') keys.push_back({Action::kStepSort, +1});
        if (final == 'D') keys.push_back({Action::kStepSort, -1});
        i += 2;
      }
      continue;
    }
    switch (c) {
      case 'q':
      case 'Q':
      case '\x03':  // Ctrl-C
        keys.push_back({Action::kQuit});
        break;
      case 's':
        keys.push_back({Action::kStepSort, +1});
        break;
      case 'S':
        keys.push_back({Action::kStepSort, -1});
        break;
      case 'r':
      case 'R':
        keys.push_back({Action::kReverse});
        break;
      case '?':
        keys.push_back({Action::kHelp});
        break;
      default:
        if (c >= '1' && c < '1' + kTopSortKeys) {
          keys.push_back({Action::kPickSort, 0, static_cast<TopSortKey>(c - '1')});
        }
        break;
    }
  }
  return keys;
}

}  // namespace ferry::cli
