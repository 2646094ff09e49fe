// Units: a number followed by a unit from a fixed table; anything else is an error naming the text.
#include "agent/core/units.h"

#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace ferry {
namespace {

struct Unit {
  std::string_view name;
  std::uint64_t scale;
};

constexpr Unit kDurationUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
constexpr Unit kSizeUnits[] = {{"B", 1}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}};

template <std::size_t N>
Result<std::uint64_t> ParseScaled(std::string_view text, const Unit (&units)[N], std::string_view what,
                                  bool bare_allowed) {
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && end != text.data()) {
    std::string_view unit(end, text.data() + text.size() - end);
    if (unit.empty() && (bare_allowed || number == 0)) return number;
    for (const Unit& u : units) {
      if (u.name == unit && number <= UINT64_MAX / u.scale) return number * u.scale;
    }
  }
  std::string names;
  for (const Unit& u : units) names += fmt::format("{}{}", names.empty() ? "" : ", ", u.name);
  return Error(ErrorCode::kInvalidArgument,
               fmt::format("'{}' is not a {} (a whole number with a unit: {})", text, what, names));
}

template <std::size_t N>
std::string FormatScaled(std::uint64_t value, const Unit (&units)[N]) {
  for (std::size_t i = N; i-- > 1;) {
    if (value != 0 && value % units[i].scale == 0)
      return fmt::format("{}{}", value / units[i].scale, units[i].name);
  }
  return fmt::format("{}{}", value, units[0].name);
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  auto ms = ParseScaled(text, kDurationUnits, "duration", false);
  if (!ms) return ms.error();
  // Milliseconds are signed 64-bit; ten years is far beyond any timeout anyone means.
  constexpr std::uint64_t kMaxMs = 10ULL * 366 * 24 * 3'600'000;
  if (*ms > kMaxMs)
    return Error(ErrorCode::kInvalidArgument, fmt::format("'{}' is longer than ten years", text));
  return Duration(static_cast<Duration::rep>(*ms));
}

Result<std::uint64_t> ParseByteSize(std::string_view text) {
  return ParseScaled(text, kSizeUnits, "size", true);
}

std::string FormatDuration(Duration d) {
  return FormatScaled(static_cast<std::uint64_t>(d.count()), kDurationUnits);
}

std::string FormatByteSize(std::uint64_t bytes) {
  return FormatScaled(bytes, kSizeUnits);
}

}  // namespace ferry
