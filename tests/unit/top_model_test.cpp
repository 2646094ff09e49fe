// Tests of BuildTopView and SortTopRows (agent/ops/top_model.h): rates from two snapshots by the daemon's
// clock, no rate across a restart or a counter that went back, the sort columns, and the files most behind.
#include "agent/ops/top_model.h"

#include <catch2/catch.hpp>

namespace ferry {
namespace {

TopFlowSnapshot Flow(std::string name, std::uint64_t read, std::uint64_t sent, std::uint64_t behind = 0,
                     std::uint64_t retries = 0, std::uint64_t errors = 0) {
  TopFlowSnapshot f;
  f.name = std::move(name);
  f.records_read = read;
  f.records_sent = sent;
  f.bytes_behind = behind;
  f.retries = retries;
  f.errors = errors;
  return f;
}

TopSnapshot Snapshot(double uptime, std::vector<TopFlowSnapshot> flows, long pid = 100) {
  TopSnapshot s;
  s.version = "1.0";
  s.pid = pid;
  s.uptime_seconds = uptime;
  s.region = "us-east-1";
  s.rss_bytes = 1 << 20;
  s.flows = std::move(flows);
  return s;
}

std::vector<std::string> Names(const TopView& view) {
  std::vector<std::string> names;
  for (const auto& row : view.flows) names.push_back(row.name);
  return names;
}

TEST_CASE("BuildTopView: the first snapshot has totals and no rates", "[top]") {
  TopSnapshot now = Snapshot(10, {Flow("web", 500, 400, 1234, 3, 2)});
  TopView view = BuildTopView(nullptr, now, {});
  CHECK(view.version == "1.0");
  CHECK(view.pid == 100);
  CHECK(view.region == "us-east-1");
  CHECK(view.rss_bytes == std::optional<std::uint64_t>(1 << 20));
  CHECK_FALSE(view.interval_seconds);
  REQUIRE(view.flows.size() == 1);
  const TopFlowRow& row = view.flows[0];
  CHECK_FALSE(row.read_per_s);
  CHECK_FALSE(row.sent_per_s);
  CHECK_FALSE(row.retries_in_interval);
  CHECK_FALSE(row.errors_in_interval);
  CHECK(row.bytes_behind == 1234);
  CHECK(row.retries == 3);
  CHECK(row.errors == 2);
}

TEST_CASE("BuildTopView: rates over the interval the daemon's clock measured", "[top]") {
  TopSnapshot before = Snapshot(10, {Flow("web", 500, 400, 0, 3, 2)});
  TopSnapshot now = Snapshot(12, {Flow("web", 2500, 1400, 0, 10, 2)});
  TopView view = BuildTopView(&before, now, {});
  REQUIRE(view.interval_seconds == Approx(2.0));
  const TopFlowRow& row = view.flows.at(0);
  CHECK(row.read_per_s == Approx(1000.0));
  CHECK(row.sent_per_s == Approx(500.0));
  CHECK(row.retries_in_interval == std::optional<std::uint64_t>(7));
  CHECK(row.errors_in_interval == std::optional<std::uint64_t>(0));
  CHECK(row.retries == 10);
}

TEST_CASE("BuildTopView: no rates across a restart, a stalled clock, a new flow or counters that went back",
          "[top]") {
  TopSnapshot before = Snapshot(10, {Flow("web", 500, 400), Flow("restarted", 900, 900)});
  SECTION("another pid") {
    TopView view = BuildTopView(&before, Snapshot(12, {Flow("web", 600, 500)}, 101), {});
    CHECK_FALSE(view.interval_seconds);
    CHECK_FALSE(view.flows.at(0).read_per_s);
  }
  SECTION("the same uptime (the same reply twice)") {
    TopView view = BuildTopView(&before, Snapshot(10, {Flow("web", 500, 400)}), {});
    CHECK_FALSE(view.flows.at(0).read_per_s);
  }
  SECTION("per flow: new, restarted with fresh counters, and unchanged") {
    TopView view = BuildTopView(
        &before, Snapshot(11, {Flow("web", 510, 400), Flow("restarted", 5, 5), Flow("new", 50, 50)}), {});
    REQUIRE(Names(view) == std::vector<std::string>{"new", "restarted", "web"});
    CHECK_FALSE(view.flows[0].read_per_s);
    CHECK_FALSE(view.flows[1].read_per_s);
    CHECK_FALSE(view.flows[1].errors_in_interval);
    CHECK(view.flows[2].read_per_s == Approx(10.0));
    CHECK(view.flows[2].sent_per_s == Approx(0.0));
  }
}

TEST_CASE("SortTopRows: each column, figures largest first, reversed, ties by name", "[top]") {
  TopSnapshot before = Snapshot(0.5, {Flow("a", 0, 0), Flow("b", 0, 0), Flow("c", 0, 0), Flow("d", 0, 0)});
  TopSnapshot now = Snapshot(1.5, {Flow("a", 10, 300, 5, 0, 1), Flow("b", 30, 100, 50, 0, 0),
                                   Flow("c", 20, 200, 50, 0, 4), Flow("d", 0, 0, 0, 0, 0)});
  auto order = [&](TopSortKey key, bool reversed = false) {
    return Names(BuildTopView(&before, now, {key, reversed}));
  };
  using V = std::vector<std::string>;
  CHECK(order(TopSortKey::kName) == V{"a", "b", "c", "d"});
  CHECK(order(TopSortKey::kName, true) == V{"d", "c", "b", "a"});
  CHECK(order(TopSortKey::kReadRate) == V{"b", "c", "a", "d"});
  CHECK(order(TopSortKey::kReadRate, true) == V{"d", "a", "c", "b"});
  CHECK(order(TopSortKey::kSentRate) == V{"a", "c", "b", "d"});
  CHECK(order(TopSortKey::kBehind) == V{"b", "c", "a", "d"});  // b and c tie: by name
  CHECK(order(TopSortKey::kErrors) == V{"c", "a", "b", "d"});

  // A row without a rate (a new flow) sorts below every rate.
  TopView view = BuildTopView(&before, now, {TopSortKey::kName, false});
  view.flows[0].read_per_s.reset();
  SortTopRows(view.flows, {TopSortKey::kReadRate, false});
  CHECK(Names(view) == V{"b", "c", "d", "a"});
}

TEST_CASE("BuildTopView: the files behind across flows, most behind first", "[top]") {
  TopFlowSnapshot web = Flow("web", 0, 0);
  web.files = {{"/var/log/web/a.log", 100}, {"/var/log/web/b.log", 0}, {"/var/log/web/c.log", 7000}};
  TopFlowSnapshot db = Flow("db", 0, 0);
  db.files = {{"/var/log/db.log", 100}, {"/var/log/db.1", 50000}};
  TopView view = BuildTopView(nullptr, Snapshot(3, {web, db}), {});
  REQUIRE(view.lagging_files.size() == 4);
  CHECK(view.lagging_files[0].path == "/var/log/db.1");
  CHECK(view.lagging_files[0].flow == "db");
  CHECK(view.lagging_files[1].path == "/var/log/web/c.log");
  CHECK(view.lagging_files[2].path == "/var/log/db.log");  // ties: by flow name
  CHECK(view.lagging_files[3].path == "/var/log/web/a.log");
  CHECK(view.lagging_files[3].bytes_behind == 100);
}

TEST_CASE("StepTopSortKey and TopSortKeyName: the columns in a cycle", "[top]") {
  CHECK(StepTopSortKey(TopSortKey::kName, 1) == TopSortKey::kReadRate);
  CHECK(StepTopSortKey(TopSortKey::kErrors, 1) == TopSortKey::kName);
  CHECK(StepTopSortKey(TopSortKey::kName, -1) == TopSortKey::kErrors);
  TopSortKey key = TopSortKey::kName;
  std::vector<std::string_view> names;
  for (int i = 0; i < kTopSortKeys; ++i, key = StepTopSortKey(key, 1)) names.push_back(TopSortKeyName(key));
  CHECK(names == std::vector<std::string_view>{"name", "read/s", "sent/s", "behind", "errors"});
  CHECK(key == TopSortKey::kName);
}

}  // namespace
}  // namespace ferry
