// RepeatFilter: a map from normalised key to the time its last line was written and what was held since.
#include "agent/core/repeat_filter.h"

#include <fmt/format.h>

namespace ferry {

std::string RepeatFilter::Normalized(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  bool in_digits = false;
  for (char c : key) {
    const bool digit = c >= '0' && c <= '9';
    if (digit && in_digits) continue;
    out += digit ? '#' : c;
    in_digits = digit;
  }
  return out;
}

void RepeatFilter::MakeRoom(std::uint64_t now_ms) {
  for (auto it = kinds_.begin(); it != kinds_.end() && kinds_.size() >= max_kinds_;) {
    const bool over = now_ms - it->second.written_at >= window_ms_;
    it = over && it->second.held == 0 ? kinds_.erase(it) : std::next(it);
  }
}

std::optional<std::string> RepeatFilter::Admit(std::string_view key, std::uint64_t now_ms) {
  std::string normalized = Normalized(key);
  auto it = kinds_.find(normalized);
  if (it == kinds_.end()) {
    if (kinds_.size() >= max_kinds_) MakeRoom(now_ms);
    if (kinds_.size() < max_kinds_) kinds_.emplace(std::move(normalized), Kind{now_ms, 0});
    return std::string();
  }
  Kind& kind = it->second;
  if (now_ms - kind.written_at < window_ms_) {
    ++kind.held;
    ++held_back_total_;
    return std::nullopt;
  }
  std::string note;
  if (kind.held > 0) {
    note = fmt::format(" (and {} more like it in the last {} s)", kind.held,
                       (now_ms - kind.written_at + 500) / 1000);
  }
  kind = Kind{now_ms, 0};
  return note;
}

}  // namespace ferry
