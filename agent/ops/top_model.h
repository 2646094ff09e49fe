// TopView: what `ferry top` shows, computed from two consecutive status snapshots: per flow the rates of
// the last interval (lines read and records acknowledged per second), bytes behind, spool use, retries
// and errors in the interval and in all, sorted by the chosen column; and the files most behind across
// flows. Pure functions of their arguments; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/ops/top_snapshot.h"

namespace ferry {

// The columns the flows can be sorted by, in the order the sort key cycles through them.
enum class TopSortKey { kName, kReadRate, kSentRate, kBehind, kErrors };
inline constexpr int kTopSortKeys = 5;

struct TopSort {
  TopSortKey key = TopSortKey::kName;
  // Names sort A to Z, figures largest first; reversed turns either around.
  bool reversed = false;
};

// "name", "read/s", "sent/s", "behind", "errors".
std::string_view TopSortKeyName(TopSortKey key);
// The next column (step +1) or the previous one (step -1), wrapping around.
TopSortKey StepTopSortKey(TopSortKey key, int step);

struct TopFlowRow {
  std::string name;
  // Rates and per-interval figures are none on the first snapshot, after the daemon restarted (another
  // pid, or its clock did not advance) and when the flow is new or its counters went back (a restarted
  // flow): no interval to measure.
  std::optional<double> read_per_s;
  std::optional<double> sent_per_s;
  std::uint64_t bytes_behind = 0;
  std::optional<std::uint64_t> spool_bytes;  // none: the flow has no spool
  std::optional<std::uint64_t> retries_in_interval;
  std::uint64_t retries = 0;
  std::optional<std::uint64_t> errors_in_interval;
  std::uint64_t errors = 0;
};

struct TopFileRow {
  std::string flow;
  std::string path;
  std::uint64_t bytes_behind = 0;
};

struct TopView {
  std::string version;
  long pid = 0;
  double uptime_seconds = 0;
  std::string region;
  std::optional<std::uint64_t> rss_bytes;
  std::optional<double> interval_seconds;  // between the two snapshots, by the daemon's clock
  std::vector<TopFlowRow> flows;           // in sort order
  std::vector<TopFileRow> lagging_files;   // only files behind, most bytes behind first
};

// previous may be null (the first snapshot, or the first after the daemon was unreachable).
TopView BuildTopView(const TopSnapshot* previous, const TopSnapshot& current, TopSort sort);

// Sorts rows by sort; ties go by name, A to Z. Rows without a rate sort below every rate.
void SortTopRows(std::vector<TopFlowRow>& rows, TopSort sort);

}  // namespace ferry
