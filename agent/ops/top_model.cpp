// BuildTopView: flows are matched by name across the two snapshots; figures that went back are not
// differenced (a reload restarts a changed flow with new counters), so no rate is ever negative or huge.
#include "agent/ops/top_model.h"

#include <algorithm>
#include <tuple>

namespace ferry {
namespace {

const TopFlowSnapshot* FindFlow(const TopSnapshot& snapshot, std::string_view name) {
  for (const auto& flow : snapshot.flows) {
    if (flow.name == name) return &flow;
  }
  return nullptr;
}

// A rate sorts below every rate when it is missing.
double RateKey(const std::optional<double>& rate) {
  return rate.value_or(-1.0);
}

}  // namespace

std::string_view TopSortKeyName(TopSortKey key) {
  switch (key) {
    case TopSortKey::kName:
      return "name";
    case TopSortKey::kReadRate:
      return "read/s";
    case TopSortKey::kSentRate:
      return "sent/s";
    case TopSortKey::kBehind:
      return "behind";
    case TopSortKey::kErrors:
      return "errors";
  }
  return "name";
}

TopSortKey StepTopSortKey(TopSortKey key, int step) {
  int next = (static_cast<int>(key) + step % kTopSortKeys + kTopSortKeys) % kTopSortKeys;
  return static_cast<TopSortKey>(next);
}

void SortTopRows(std::vector<TopFlowRow>& rows, TopSort sort) {
  // Returns whether a comes before b before `reversed` applies; figures compare largest first.
  auto before = [key = sort.key](const TopFlowRow& a, const TopFlowRow& b) {
    switch (key) {
      case TopSortKey::kName:
        return false;
      case TopSortKey::kReadRate:
        return RateKey(a.read_per_s) > RateKey(b.read_per_s);
      case TopSortKey::kSentRate:
        return RateKey(a.sent_per_s) > RateKey(b.sent_per_s);
      case TopSortKey::kBehind:
        return a.bytes_behind > b.bytes_behind;
      case TopSortKey::kErrors:
        return std::tie(a.errors_in_interval, a.errors) > std::tie(b.errors_in_interval, b.errors);
    }
    return false;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const TopFlowRow& a, const TopFlowRow& b) {
    const TopFlowRow& x = sort.reversed ? b : a;
    const TopFlowRow& y = sort.reversed ? a : b;
    if (before(x, y)) return true;
    if (before(y, x)) return false;
    return x.name < y.name;
  });
}

TopView BuildTopView(const TopSnapshot* previous, const TopSnapshot& current, TopSort sort) {
  TopView view;
  view.version = current.version;
  view.pid = current.pid;
  view.uptime_seconds = current.uptime_seconds;
  view.region = current.region;
  view.rss_bytes = current.rss_bytes;
  // Another pid, or a clock that did not advance, is another daemon (or the same reply twice): nothing
  // to measure against.
  if (previous != nullptr && previous->pid == current.pid &&
      current.uptime_seconds > previous->uptime_seconds) {
    view.interval_seconds = current.uptime_seconds - previous->uptime_seconds;
  } else {
    previous = nullptr;
  }
  for (const TopFlowSnapshot& flow : current.flows) {
    TopFlowRow row;
    row.name = flow.name;
    row.bytes_behind = flow.bytes_behind;
    row.spool_bytes = flow.spool_bytes;
    row.retries = flow.retries;
    row.errors = flow.errors;
    const TopFlowSnapshot* before = previous != nullptr ? FindFlow(*previous, flow.name) : nullptr;
    if (before != nullptr && flow.records_read >= before->records_read &&
        flow.records_sent >= before->records_sent && flow.retries >= before->retries &&
        flow.errors >= before->errors) {
      const double seconds = *view.interval_seconds;
      row.read_per_s = static_cast<double>(flow.records_read - before->records_read) / seconds;
      row.sent_per_s = static_cast<double>(flow.records_sent - before->records_sent) / seconds;
      row.retries_in_interval = flow.retries - before->retries;
      row.errors_in_interval = flow.errors - before->errors;
    }
    view.flows.push_back(std::move(row));
    for (const TopFileSnapshot& file : flow.files) {
      if (file.bytes_behind > 0) view.lagging_files.push_back({flow.name, file.path, file.bytes_behind});
    }
  }
  SortTopRows(view.flows, sort);
  std::stable_sort(
      view.lagging_files.begin(), view.lagging_files.end(), [](const TopFileRow& a, const TopFileRow& b) {
        return std::tie(b.bytes_behind, a.flow, a.path) < std::tie(a.bytes_behind, b.flow, b.path);
      });
  return view;
}

}  // namespace ferry
