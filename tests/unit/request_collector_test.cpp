// Tests of RequestCollector (agent/delivery/request_collector): PutRecords requests respect the record
// and byte limits, and a request that does not fill is sent after max_age; requests under a memory budget.
#include "agent/delivery/request_collector.h"
#include "agent/core/memory_budget.h"
#include "agent/delivery/delivery_path.h"

#include <uv.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/memory_budget.h"
#include "agent/delivery/delivery_path.h"

namespace ferry {
namespace {

constexpr std::size_t kMiB = 1 << 20;

// A loop, a collector on it and the requests it flushed. Finish() closes both and checks nothing leaked.
class Harness {
 public:
  explicit Harness(Duration max_age = Duration(60000), RequestLimits limits = {})
      : batch_(new Batch(1, 0, nullptr, 4096, nullptr)) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    collector_.emplace(&loop_, limits, max_age, [this](std::vector<WireRecord>&& request) {
      requests.push_back(std::move(request));
      flush_times.push_back(uv_now(&loop_));
    });
  }
  ~Harness() {
    if (collector_) Finish();
  }

  // A record whose data and partition key are views into storage owned by the test.
  WireRecord Record(std::string_view data, std::string_view key = "k") {
    return WireRecord{data, key, batch_};
  }

  std::vector<std::size_t> RequestSizes() const {
    std::vector<std::size_t> sizes;
    for (const auto& r : requests) sizes.push_back(r.size());
    return sizes;
  }

  void Finish() {
    bool closed = false;
    collector_->Close([&] { closed = true; });
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(closed);
    collector_.reset();
    CHECK(uv_loop_close(&loop_) == 0);
  }

  uv_loop_t* loop() { return &loop_; }
  RequestCollector& collector() { return *collector_; }

  std::vector<std::vector<WireRecord>> requests;
  std::vector<std::uint64_t> flush_times;

 private:
  uv_loop_t loop_{};
  BatchRef batch_;
  std::optional<RequestCollector> collector_;
};

TEST_CASE("Collector sends 500 records per request", "[request_collector]") {
  Harness h;
  std::vector<std::string> data;
  for (int i = 0; i < 1200; ++i) data.push_back("record-" + std::to_string(i));
  for (int i = 0; i < 499; ++i) h.collector().Add(h.Record(data[i]));
  CHECK(h.requests.empty());
  CHECK(h.collector().pending_records() == 499);
  h.collector().Add(h.Record(data[499]));  // the 500th fills the request
  CHECK(h.RequestSizes() == std::vector<std::size_t>{500});
  CHECK(h.collector().pending_records() == 0);
  for (int i = 500; i < 1200; ++i) h.collector().Add(h.Record(data[i]));
  CHECK(h.RequestSizes() == std::vector<std::size_t>{500, 500});
  CHECK(h.collector().pending_records() == 200);
  h.collector().FlushNow();
  CHECK(h.RequestSizes() == std::vector<std::size_t>{500, 500, 200});

  // In order, nothing lost or repeated.
  int next = 0;
  for (const auto& request : h.requests) {
    for (const auto& record : request) {
      CHECK(record.data == data[next++]);
      CHECK(record.partition_key == "k");
    }
  }
  CHECK(next == 1200);
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector counts data and partition key against 5 MiB", "[request_collector]") {
  Harness h;
  const std::string key(10, 'p');
  const std::string data(kMiB - key.size(), 'd');  // each record counts exactly 1 MiB
  for (int i = 0; i < 4; ++i) h.collector().Add(h.Record(data, key));
  CHECK(h.requests.empty());
  h.collector().Add(h.Record(data, key));  // 5 MiB exactly: full
  CHECK(h.RequestSizes() == std::vector<std::size_t>{5});
  CHECK(h.collector().pending_records() == 0);
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector flushes first when a record would cross 5 MiB", "[request_collector]") {
  Harness h;
  const std::string mib(kMiB - 1, 'd');  // with the 1-byte key: 1 MiB
  const std::string bigger(kMiB, 'e');   // with the key: 1 MiB + 1
  for (int i = 0; i < 4; ++i) h.collector().Add(h.Record(mib));
  h.collector().Add(h.Record(bigger));
  REQUIRE(h.RequestSizes() == std::vector<std::size_t>{4});
  CHECK(h.requests[0].back().data.size() == mib.size());
  CHECK(h.collector().pending_records() == 1);
  h.collector().FlushNow();
  REQUIRE(h.RequestSizes() == std::vector<std::size_t>{4, 1});
  CHECK(h.requests[1][0].data.size() == bigger.size());
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector adds a record that exactly reaches 5 MiB, then sends", "[request_collector]") {
  Harness h;
  const std::string three(3 * kMiB - 1, 'a');
  const std::string two(2 * kMiB - 1, 'b');
  h.collector().Add(h.Record(three));
  h.collector().Add(h.Record(two));
  CHECK(h.RequestSizes() == std::vector<std::size_t>{2});
  CHECK(h.collector().pending_records() == 0);
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector sends a record bigger than the byte limit alone", "[request_collector]") {
  Harness h;
  const std::string huge(5 * kMiB + 1, 'h');
  h.collector().Add(h.Record("small"));
  h.collector().Add(h.Record(huge));
  REQUIRE(h.RequestSizes() == std::vector<std::size_t>{1, 1});
  CHECK(h.requests[0][0].data == "small");
  CHECK(h.requests[1][0].data.size() == huge.size());
  CHECK(h.collector().pending_records() == 0);

  h.collector().Add(h.Record(huge));  // with nothing pending
  CHECK(h.RequestSizes() == std::vector<std::size_t>{1, 1, 1});
  h.collector().Add(h.Record("after"));
  CHECK(h.collector().pending_records() == 1);
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector honours custom limits", "[request_collector]") {
  Harness h(Duration(60000), RequestLimits{3, 10});
  h.collector().Add(h.Record("aaa", "k"));  // 4
  h.collector().Add(h.Record("bbb", "k"));  // 8
  h.collector().Add(h.Record("cc", "k"));   // 11 > 10: flush the first two
  CHECK(h.RequestSizes() == std::vector<std::size_t>{2});
  h.collector().Add(h.Record("d", "k"));
  h.collector().Add(h.Record("e", "k"));  // third record: full
  CHECK(h.RequestSizes() == std::vector<std::size_t>{2, 3});
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector keeps each shard's share of a request within the per-shard limits",
          "[request_collector]") {
  Harness h(Duration(60000), RequestLimits{500, 1000, 10, 2});
  auto on = [&h](std::string_view data, std::string_view shard) {
    WireRecord r = h.Record(data, "k");
    r.lane = shard;
    return r;
  };
  h.collector().Add(on("aaaa", "shard-0"));  // shard-0: 5 bytes
  h.collector().Add(on("bbbb", "shard-1"));  // another shard: its own share
  h.collector().Add(on("", ""));             // no prediction: not counted against a shard
  h.collector().Add(on("cc", "shard-0"));    // shard-0: 8 bytes, 2 records
  CHECK(h.requests.empty());
  h.collector().Add(on("d", "shard-0"));  // a third record for shard-0: flush first
  CHECK(h.RequestSizes() == std::vector<std::size_t>{4});
  h.collector().Add(on("eeeeeeee", "shard-0"));  // 2 + 9 = 11 > 10 bytes: flush first
  CHECK(h.RequestSizes() == std::vector<std::size_t>{4, 1});
  h.collector().FlushNow();
  CHECK(h.RequestSizes() == std::vector<std::size_t>{4, 1, 1});
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector sends a partial request after max_age", "[request_collector]") {
  Harness h(Duration(20));
  uv_update_time(h.loop());
  std::uint64_t added_at = uv_now(h.loop());
  h.collector().Add(h.Record("one"));
  h.collector().Add(h.Record("two"));
  CHECK(h.requests.empty());
  // Each turn either fires the timer or leaves it armed; it returns 0 once nothing is left to wait for.
  while (h.requests.empty() && uv_run(h.loop(), UV_RUN_ONCE) != 0) {
  }
  REQUIRE(h.RequestSizes() == std::vector<std::size_t>{2});
  CHECK(h.flush_times[0] - added_at >= 20);
  CHECK(h.requests[0][0].data == "one");
  CHECK(h.requests[0][1].data == "two");
  // The timer is not armed again until a record arrives.
  CHECK(uv_run(h.loop(), UV_RUN_NOWAIT) == 0);

  // A new request gets a new timer.
  uv_update_time(h.loop());
  std::uint64_t second_at = uv_now(h.loop());
  h.collector().Add(h.Record("three"));
  while (h.requests.size() < 2 && uv_run(h.loop(), UV_RUN_ONCE) != 0) {
  }
  REQUIRE(h.RequestSizes() == std::vector<std::size_t>{2, 1});
  CHECK(h.flush_times[1] - second_at >= 20);
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector does not send a partial request early", "[request_collector]") {
  Harness h(Duration(10000));
  h.collector().Add(h.Record("waiting"));
  CHECK(uv_run(h.loop(), UV_RUN_NOWAIT) != 0);  // the age timer is armed
  CHECK(h.requests.empty());
  CHECK(h.collector().pending_records() == 1);
  h.Finish();  // closing does not send: the owner calls FlushNow first on shutdown
  CHECK(h.requests.empty());
}

TEST_CASE("Collector measures max_age from the oldest record", "[request_collector]") {
  Harness h(Duration(200));
  uv_update_time(h.loop());
  std::uint64_t first_at = uv_now(h.loop());
  h.collector().Add(h.Record("old"));
  uv_sleep(150);
  uv_update_time(h.loop());
  std::uint64_t second_at = uv_now(h.loop());
  h.collector().Add(h.Record("new"));  // must not push the deadline back
  while (h.requests.empty() && uv_run(h.loop(), UV_RUN_ONCE) != 0) {
  }
  REQUIRE(h.RequestSizes() == std::vector<std::size_t>{2});
  CHECK(h.flush_times[0] - first_at >= 200);
  CHECK(h.flush_times[0] - second_at < 200);
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector's timer stops when a request is sent for size", "[request_collector]") {
  Harness h(Duration(20), RequestLimits{2, 1000});
  h.collector().Add(h.Record("a"));
  h.collector().Add(h.Record("b"));
  CHECK(h.RequestSizes() == std::vector<std::size_t>{2});
  CHECK(uv_run(h.loop(), UV_RUN_NOWAIT) == 0);  // no timer left running
  h.requests.clear();
  h.Finish();
}

TEST_CASE("FlushNow with nothing collected sends nothing", "[request_collector]") {
  Harness h(Duration(20));
  h.collector().FlushNow();
  CHECK(h.requests.empty());
  h.collector().Add(h.Record("x"));
  h.collector().FlushNow();
  h.collector().FlushNow();
  CHECK(h.RequestSizes() == std::vector<std::size_t>{1});
  CHECK(uv_run(h.loop(), UV_RUN_NOWAIT) == 0);  // FlushNow stopped the age timer
  CHECK(h.RequestSizes() == std::vector<std::size_t>{1});
  h.requests.clear();
  h.Finish();
}

TEST_CASE("Collector keeps batches alive while records wait", "[request_collector]") {
  MemoryBudget budget(1 << 20);
  Harness h;
  {
    BatchRef batch(new Batch(2, 0, nullptr, 128, &budget));
    std::string_view data = batch->arena().Copy("payload");
    h.collector().Add(WireRecord{data, "key", batch});
  }
  CHECK(budget.used() == 128);  // the pending record holds the batch
  h.collector().FlushNow();
  REQUIRE(h.RequestSizes() == std::vector<std::size_t>{1});
  CHECK(h.requests[0][0].data == "payload");
  CHECK(budget.used() == 128);
  h.requests.clear();
  CHECK(budget.used() == 0);
  h.Finish();
}

TEST_CASE("Requests hold at most a quarter of the memory budget, and at least 256 KiB",
          "[request_collector]") {
  const RequestLimits api;  // PutRecords: 5 MiB
  CHECK(BudgetedRequestLimits(api, nullptr).max_bytes == api.max_bytes);
  MemoryBudget small(4 << 20);
  CHECK(BudgetedRequestLimits(api, &small).max_bytes == 1 << 20);
  CHECK(BudgetedRequestLimits(api, &small).max_records == api.max_records);
  MemoryBudget tiny(64 << 10);
  CHECK(BudgetedRequestLimits(api, &tiny).max_bytes == 256 << 10);
  MemoryBudget large(1 << 30);
  CHECK(BudgetedRequestLimits(api, &large).max_bytes == api.max_bytes);
}

}  // namespace
}  // namespace ferry
