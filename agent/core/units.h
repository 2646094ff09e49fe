// Durations and byte sizes as users write them in config and flags: "500ms", "2s", "1m"; "64KiB", "5MiB".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

using Duration = std::chrono::milliseconds;

// Accepts an integer with one of the units ms, s, m, h (a bare 0 is allowed).
Result<Duration> ParseDuration(std::string_view text);
// Accepts an integer with B, KiB, MiB or GiB (a bare number means bytes).
Result<std::uint64_t> ParseByteSize(std::string_view text);

// The shortest exact spelling: 1500ms, 2s, 5m.
std::string FormatDuration(Duration d);
// The largest exact binary unit: 64KiB, 5MiB, 100B.
std::string FormatByteSize(std::uint64_t bytes);

}  // namespace ferry
