// Tests of Sender (agent/delivery/sender) with per-shard rate limits and one request per shard, on the
// harness of sender_harness.h (a real Sender and HttpClient against a PutRecords-like endpoint on the same
// loop). Requests to a throttled shard are spaced out by at least what their bytes cost (lower bounds
// only: a slow machine may be later, never earlier); another shard is not held up by it; with
// one_request_per_shard no shard ever has two requests in flight (checked by the server and by the
// destination) while other shards go concurrently, and a shard's records are stored in queue order,
// retried ones before newer ones; a drain sends throttled requests when they may go and nothing once it
// has timed out; request bodies are charged to a memory budget while they are out, and a request waits
// while its body would not fit unless nothing is in flight. Single-threaded: everything runs on the test's
// loop.
#include "agent/delivery/sender.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "tests/unit/sender_harness.h"

namespace ferry {
namespace {

using namespace ferry::sender_testing;  // NOLINT(google-build-using-namespace): the harness

// The least loop time between the first request to a shard and its k-th (0-based) after it, each of
// `bytes`, at `percent` of 1 MiB/s: the bucket starts with one second's worth, then refills at the rate.
std::uint64_t MinGapMs(std::size_t k, std::size_t bytes, std::uint32_t percent) {
  const double rate = 1048576.0 * percent / 100.0;  // bytes per second
  const double owed = static_cast<double>(k * bytes) - rate;
  return owed <= 0 ? 0 : static_cast<std::uint64_t>(owed / rate * 1000.0);  // rounded down
}

constexpr std::size_t kBig = 40000;  // at 10% a shard takes about 2.6 of these per second

TEST_CASE("Requests to one shard at 10% are spaced out by their bytes", "[sender][rate]") {
  SenderOptions options;
  ShardOrder shards;
  shards.rate_limit_percent = 10;
  Harness h(options, shards);
  for (int i = 0; i < 6; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), kBig)});
  CHECK(h.Run() == 0);

  const auto& sent = h.destination().sent;
  REQUIRE(sent.size() == 6);
  for (std::size_t k = 1; k < sent.size(); ++k) {
    INFO("request " << k);
    CHECK(sent[k].labels == Lines{"A" + std::to_string(k)});  // in order
    CHECK(sent[k].at - sent[0].at >= MinGapMs(k, kBig, 10));
  }
  CHECK(sent[5].at - sent[0].at >= 900);
  CHECK(h.endpoint.stored["A"] == Lines{"A0", "A1", "A2", "A3", "A4", "A5"});
  const SenderCounters& c = h.sender().counters();
  CHECK(c.requests == 6);
  CHECK(c.records_sent == 6);
  CHECK(c.throttle_waits >= 1);
  CHECK(c.throttle_waits <= 4);  // the first two fit in the bucket
  CHECK(c.throttle_wait_ms >= MinGapMs(5, kBig, 10));
  CHECK(h.sender().unsent_records() == 0);
  h.Finish();
}

TEST_CASE("Without a rate limit nothing waits", "[sender][rate]") {
  Harness h(SenderOptions{});
  for (int i = 0; i < 6; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), kBig)});
  CHECK(h.Run() == 0);
  CHECK(h.destination().sent.size() == 6);
  CHECK(h.sender().counters().throttle_waits == 0);
  CHECK(h.sender().counters().lane_waits == 0);
  CHECK(h.destination().concurrency.MaxPerShard() > 1);  // four at once to one shard
  h.Finish();
}

TEST_CASE("A throttled shard does not hold up another shard", "[sender][rate]") {
  SenderOptions options;
  ShardOrder shards;
  shards.rate_limit_percent = 10;
  Harness h(options, shards);
  for (int i = 0; i < 6; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), kBig)});
  for (int i = 0; i < 4; ++i) h.Submit({h.Record("B", "B" + std::to_string(i), kBig)});
  CHECK(h.Run() == 0);

  REQUIRE(h.destination().sent.size() == 10);
  // B0 was queued behind A3, which had to wait: it went first (at once, not after A's backlog).
  CHECK(h.SendIndex("B0") < h.SendIndex("A3"));
  // B's own pace, and A's, each set by their own bytes alone.
  for (std::size_t k = 1; k < 4; ++k) {
    CHECK(h.SentAt("B" + std::to_string(k)) - h.SentAt("B0") >= MinGapMs(k, kBig, 10));
  }
  CHECK(h.SentAt("A5") - h.SentAt("A0") >= MinGapMs(5, kBig, 10));
  CHECK(h.SendIndex("B3") < h.SendIndex("A5"));  // about 145 ms against at least 907 ms
  CHECK(h.endpoint.stored["A"] == Lines{"A0", "A1", "A2", "A3", "A4", "A5"});
  CHECK(h.endpoint.stored["B"] == Lines{"B0", "B1", "B2", "B3"});
  h.Finish();
}

TEST_CASE("A request waits for the slowest of its shards", "[sender][rate]") {
  SenderOptions options;
  ShardOrder shards;
  shards.rate_limit_percent = 10;
  Harness h(options, shards);
  for (int i = 0; i < 4; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), kBig)});
  h.Submit({h.Record("B", "AB-b", 100), h.Record("A", "AB-a", 100)});
  CHECK(h.Run() == 0);
  // Four of 40,000 bytes, then this one: it goes after A has paid for A0..A3.
  CHECK(h.SentAt("AB-b") - h.SentAt("A0") >= MinGapMs(4, kBig, 10));
  CHECK(h.SendIndex("AB-b") > h.SendIndex("A3"));
  h.Finish();
}

// Shards of each request, in submission order: runs of one shard, two shards and three.
const std::vector<Lines> kShardPlan = {{"A"},      {"B"}, {"A", "B"}, {"C"},           {"A"}, {"C"},
                                       {"B", "C"}, {"A"}, {"B"},      {"A", "B", "C"}, {"C"}, {"A"}};

TEST_CASE("One request per shard: never two in flight for a shard, other shards concurrently",
          "[sender][rate]") {
  SenderOptions options;
  ShardOrder shards;
  shards.one_request_per_shard = true;
  options.max_in_flight = 4;
  Harness h(options, shards);
  h.endpoint.hold_ms = 20;
  std::map<std::string, Lines> queued;  // shard -> labels in submission order
  std::map<std::string, int> next;
  for (const Lines& shards : kShardPlan) {
    std::vector<WireRecord> request;
    for (const std::string& shard : shards) {
      for (int i = 0; i < 2; ++i) {
        std::string label = shard + std::to_string(next[shard]++);
        queued[shard].push_back(label);
        request.push_back(h.Record(shard, label));
      }
    }
    h.Submit(std::move(request));
  }
  CHECK(h.Run() == 0);

  CHECK(h.endpoint.concurrency.MaxPerShard() == 1);
  CHECK(h.destination().concurrency.MaxPerShard() == 1);
  CHECK(h.destination().concurrency.max_total >= 2);  // {A}, {B} and {C} went at once
  CHECK(h.endpoint.stored == queued);
  CHECK(h.destination().sent.size() == kShardPlan.size());
  CHECK(h.sender().counters().lane_waits > 0);
  h.Finish();
}

TEST_CASE("One request per shard: retried records go before newer records of their shard", "[sender][rate]") {
  SenderOptions options;
  ShardOrder shards;
  shards.one_request_per_shard = true;
  options.backoff_base = Duration(30);
  std::set<std::string> fail_record;
  std::set<std::string> fail_request;
  std::size_t bytes = 100;
  SECTION("a failed record") {
    fail_record = {"A1"};
  }
  SECTION("a failed request") {
    fail_request = {"A1"};
  }
  SECTION("a failed record, with a rate limit too") {
    fail_record = {"A1"};
    shards.rate_limit_percent = 1;  // 10,486 B/s: the retry and every later request of A wait for it
    bytes = 4000;
  }
  Harness h(options, shards);
  h.endpoint.fail_record_once = fail_record;
  h.endpoint.fail_request_once = fail_request;
  h.Submit({h.Record("A", "A0", bytes), h.Record("A", "A1", bytes), h.Record("A", "A2", bytes)});
  h.Submit({h.Record("A", "A3", bytes), h.Record("A", "A4", bytes)});
  h.Submit({h.Record("B", "B0", bytes)});
  h.Submit({h.Record("A", "A5", bytes)});
  CHECK(h.Run() == 0);

  const Lines& a = h.endpoint.stored["A"];
  REQUIRE(a.size() == 6);
  // A1 after A2 when only it failed (Kinesis had stored A2 already: the documented hole), but before
  // every record of a later request.
  const auto pos = [&a](const std::string& label) {
    return std::find(a.begin(), a.end(), label) - a.begin();
  };
  CHECK(pos("A0") < pos("A1"));
  CHECK(pos("A1") < pos("A3"));
  CHECK(pos("A3") < pos("A4"));
  CHECK(pos("A4") < pos("A5"));
  CHECK(h.endpoint.stored["B"] == Lines{"B0"});
  CHECK(h.destination().concurrency.MaxPerShard() == 1);
  h.Finish();
}

TEST_CASE("A retry is charged again and keeps its place before newer requests", "[sender][rate]") {
  SenderOptions options;
  ShardOrder shards;
  shards.rate_limit_percent = 10;
  options.backoff_base = Duration(10);
  Harness h(options, shards);
  h.endpoint.fail_record_once = {"A0"};
  h.Submit({h.Record("A", "A0", kBig)});
  h.Submit({h.Record("A", "A1", kBig)});
  h.Submit({h.Record("A", "A2", kBig)});
  h.Submit({h.Record("A", "A3", kBig)});
  CHECK(h.Run() == 0);
  // Five attempts of 40,000 bytes: the last one cannot go before the bucket refilled for it.
  REQUIRE(h.destination().sent.size() == 5);
  CHECK(h.destination().sent[4].at - h.destination().sent[0].at >= MinGapMs(4, kBig, 10));
  CHECK(h.sender().counters().records_retried == 1);
  CHECK(h.sender().counters().errors.at("ProvisionedThroughputExceededException") == 1);
  // The retry of A0 went before whatever of A1..A3 still waited for the limiter.
  CHECK(h.SendIndex("A3") == 4);
  h.Finish();
}

TEST_CASE("Request bodies are charged to the memory budget and wait while they would not fit",
          "[sender][budget]") {
  MemoryBudget budget(3000);
  SenderOptions options;
  options.max_in_flight = 4;
  options.budget = &budget;
  Harness h(options);
  h.endpoint.hold_ms = 20;
  for (int i = 0; i < 6; ++i) h.Submit({h.Record("A", "r" + std::to_string(i), 1000)});
  CHECK(h.Run() == 0);
  // Two bodies of about 1 KB fit in 3,000 bytes; a third would not, so it waited for a response.
  CHECK(h.endpoint.concurrency.max_total == 2);
  CHECK(h.endpoint.stored.at("A") == Lines{"r0", "r1", "r2", "r3", "r4", "r5"});
  CHECK(budget.used() == 0);
  h.Finish();
}

TEST_CASE("A request larger than the whole memory budget still goes, alone", "[sender][budget]") {
  MemoryBudget budget(500);
  SenderOptions options;
  options.budget = &budget;
  Harness h(options);
  h.endpoint.hold_ms = 10;
  for (int i = 0; i < 3; ++i) h.Submit({h.Record("A", "r" + std::to_string(i), 1000)});
  CHECK(h.Run() == 0);
  CHECK(h.endpoint.concurrency.max_total == 1);
  CHECK(h.endpoint.stored.at("A") == Lines{"r0", "r1", "r2"});
  CHECK(budget.used() == 0);
  h.Finish();
}

TEST_CASE("An answer's body counts against the memory budget while it is read", "[sender][budget]") {
  MemoryBudget budget(1 << 20);
  SenderOptions options;
  options.max_in_flight = 1;  // one at a time: nothing else is held while an answer is read
  options.budget = &budget;
  Harness h(options);
  h.destination().budget = &budget;
  for (int i = 0; i < 3; ++i) {
    std::vector<WireRecord> records;
    for (int k = 0; k < 50; ++k) records.push_back(h.Record("A", "r" + std::to_string(i * 50 + k), 100));
    h.Submit(std::move(records));
  }
  CHECK(h.Run() == 0);
  const auto& seen = h.destination().budget_while_reading;
  REQUIRE(seen.size() == 3);
  for (const auto& [held, body] : seen) {
    CHECK(body == 50 * 3);  // "ok\n" per record
    CHECK(held == body);    // the request's body is given back; the answer's is held until it is read
  }
  CHECK(budget.used() == 0);
  h.Finish();
}

TEST_CASE("A request that cannot be built waits a backoff and is built again; nothing throws",
          "[sender][budget]") {
  SenderOptions options;
  options.backoff_base = Duration(20);
  options.backoff_cap = Duration(40);
  Harness h(options);
  h.destination().fail_builds = 2;
  h.Submit({h.Record("A", "a0"), h.Record("A", "a1")});
  h.Submit({h.Record("B", "b0")});
  CHECK_NOTHROW(h.Run());
  CHECK(h.endpoint.stored.at("A") == Lines{"a0", "a1"});
  CHECK(h.endpoint.stored.at("B") == Lines{"b0"});
  const SenderCounters& c = h.sender().counters();
  CHECK(c.errors.at("EncodingFailed") == 2);
  CHECK(c.request_failures == 2);
  CHECK(c.records_sent == 3);
  CHECK(h.sender().unsent_records() == 0);
  h.Finish();
}

TEST_CASE("A drain sends nothing more once it has timed out", "[sender][rate]") {
  SenderOptions options;
  ShardOrder shards;
  shards.rate_limit_percent = 10;
  Harness h(options, shards);
  // 80,000 bytes each: the first fits the bucket of 104,857; the second waits about 527 ms for its cost.
  for (int i = 0; i < 3; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), 2 * kBig)});
  CHECK(h.Run(100) == 2);
  CHECK(h.destination().sent.size() == 1);
  CHECK(h.sender().counters().throttle_waits == 1);
  CHECK(h.endpoint.stored["A"] == Lines{"A0"});
  h.Finish();
}

}  // namespace
}  // namespace ferry
