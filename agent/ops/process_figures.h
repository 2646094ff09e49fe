// ProcessFigures: this process's CPU time, memory, descriptors and start time, read from /proc, for the
// process_* metrics. A figure that cannot be read is absent (nullopt), never made up. Any thread; each call
// reads /proc anew (a few small files).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry {

struct ProcessFigures {
  std::optional<double> cpu_seconds;  // user + system
  std::optional<std::uint64_t> resident_bytes;
  std::optional<std::uint64_t> virtual_bytes;
  std::optional<std::uint64_t> open_fds;
  std::optional<std::uint64_t> max_fds;      // RLIMIT_NOFILE's soft limit
  std::optional<double> start_time_seconds;  // since the Unix epoch
};

ProcessFigures ReadProcessFigures();

// The figures in a /proc/<pid>/stat line (cpu, memory, start time as seconds after boot); exposed for tests.
struct ProcStat {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t starttime_ticks = 0;
  std::uint64_t vsize_bytes = 0;
  std::uint64_t rss_pages = 0;
};
std::optional<ProcStat> ParseProcStat(std::string_view line);

}  // namespace ferry
