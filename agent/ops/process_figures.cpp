// ProcessFigures: /proc/self/stat for CPU, memory and start time (proc(5)), /proc/stat's btime for the
// boot time it counts from, /proc/self/fd for the descriptors.
#include "agent/ops/process_figures.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ferry {
namespace {

std::optional<std::string> ReadSmallFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::uint64_t> Number(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view line) {
  // "pid (comm) state ppid ...": comm may hold spaces and ')', so fields are counted after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> fields;  // fields[0] is field 3 of proc(5), the state
  std::string_view rest = line.substr(close + 1);
  while (!rest.empty()) {
    const auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  // proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24.
  auto field = [&fields](std::size_t n) {
    return n - 3 < fields.size() ? Number(fields[n - 3]) : std::nullopt;
  };
  auto utime = field(14), stime = field(15), start = field(22), vsize = field(23), rss = field(24);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  return ProcStat{*utime, *stime, *start, *vsize, *rss};
}

ProcessFigures ReadProcessFigures() {
  ProcessFigures out;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (auto text = ReadSmallFile("/proc/self/stat")) {
    if (auto stat = ParseProcStat(*text); stat && ticks > 0 && page > 0) {
      out.cpu_seconds =
          static_cast<double>(stat->utime_ticks + stat->stime_ticks) / static_cast<double>(ticks);
      out.resident_bytes = stat->rss_pages * static_cast<std::uint64_t>(page);
      out.virtual_bytes = stat->vsize_bytes;
      if (auto boot = ReadSmallFile("/proc/stat")) {
        const auto at = boot->find("\nbtime ");
        if (at != std::string::npos) {
          const auto from = at + 7;
          if (auto btime = Number(std::string_view(*boot).substr(from, boot->find('\n', from) - from))) {
            out.start_time_seconds = static_cast<double>(*btime) +
                                     static_cast<double>(stat->starttime_ticks) / static_cast<double>(ticks);
          }
        }
      }
    }
  }
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    std::uint64_t n = 0;
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    out.open_fds = n - 1;  // the descriptor opendir holds
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    out.max_fds = limit.rlim_cur;
  return out;
}

}  // namespace ferry
