// Tests of ShardRateLimiter (agent/kinesis/shard_rate_limiter): buckets start full and refill at the
// shard limit times the percentage, up to one second's worth; a request may go once its shards hold its
// cost (or a full bucket, for a request larger than one), and may then leave them in debt; shards are
// independent; records without a predicted shard are free; idle full buckets are forgotten; percent 0 turns
// limiting off. Time is given, never read. Also ShardAdmission (agent/kinesis/shard_admission), which applies
// the limiter and busy shards to the sender's queue: a held-back request holds back later requests sharing a
// shard with it, not others; a request with unpredicted records is a barrier once held back.
#include "agent/kinesis/shard_rate_limiter.h"

#include "agent/kinesis/shard_admission.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::kinesis {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kT0 = 1'000'000;  // loop time at the start of each test

// Records for the limiter: it reads only sizes and predicted shards, so the batch stays empty.
class Records {
 public:
  // One record of `bytes` bytes (data plus a 1-byte partition key) for `shard` ("" = none predicted).
  Records& Add(std::string_view shard, std::uint64_t bytes, std::uint64_t count = 1) {
    storage_.emplace_back(bytes - 1, 'x');
    for (std::uint64_t i = 0; i < count; ++i) {
      records_.push_back(WireRecord{storage_.back(), "k", BatchRef(), 1, {}, shard});
    }
    return *this;
  }
  std::span<const WireRecord> span() const { return records_; }

 private:
  std::deque<std::string> storage_;  // a deque: the records' views must not move
  std::vector<WireRecord> records_;
};

TEST_CASE("A new shard may go at once; a bucket's worth more then waits a second", "[rate]") {
  ShardRateLimiter limiter(100);
  Records r;
  r.Add("A", kMiB);
  CHECK(limiter.DelayFor(r.span(), kT0) == 0);
  limiter.Charge(r.span(), kT0);
  CHECK(limiter.DelayFor(r.span(), kT0) == 1000);  // balance 0: the next MiB refills in a second
  CHECK(limiter.tracked_shards() == 1);
}

TEST_CASE("Debt is paid back at the shard rate", "[rate]") {
  ShardRateLimiter limiter(100);
  Records full, half;
  full.Add("A", kMiB);
  half.Add("A", kMiB / 2);
  limiter.Charge(full.span(), kT0);
  limiter.Charge(half.span(), kT0);  // -512 KiB at 1 MiB/s; the next 512 KiB needs +512 KiB
  CHECK(limiter.DelayFor(half.span(), kT0) == 1000);
  CHECK(limiter.DelayFor(half.span(), kT0 + 200) == 800);
  CHECK(limiter.DelayFor(half.span(), kT0 + 999) == 1);
  CHECK(limiter.DelayFor(half.span(), kT0 + 1000) == 0);
  // Charging later first refills what the elapsed time paid back.
  limiter.Charge(half.span(), kT0 + 1000);
  CHECK(limiter.DelayFor(half.span(), kT0 + 1000) == 500);
}

TEST_CASE("A request larger than a bucket goes from a full bucket, then its shard waits it off", "[rate]") {
  ShardRateLimiter limiter(100);
  Records big;
  big.Add("A", 3 * kMiB);
  CHECK(limiter.DelayFor(big.span(), kT0) == 0);
  limiter.Charge(big.span(), kT0);  // -2 MiB; the next goes from a full bucket again
  CHECK(limiter.DelayFor(big.span(), kT0) == 3000);
  CHECK(limiter.DelayFor(big.span(), kT0 + 2999) == 1);
  CHECK(limiter.DelayFor(big.span(), kT0 + 3000) == 0);
}

TEST_CASE("A bucket holds one second's worth however long it was idle", "[rate]") {
  ShardRateLimiter limiter(100);
  Records one, two;
  one.Add("A", kMiB);
  two.Add("A", 2 * kMiB);
  limiter.Charge(one.span(), kT0);
  limiter.Charge(two.span(), kT0 + 10000);  // full again (1 MiB, not 10), then -1 MiB
  CHECK(limiter.DelayFor(one.span(), kT0 + 10000) == 2000);
}

TEST_CASE("Records per second are limited as well as bytes", "[rate]") {
  ShardRateLimiter limiter(100);
  Records thousand, one, more;
  thousand.Add("A", 10, 1000);
  one.Add("A", 10);
  more.Add("A", 10, 500);
  limiter.Charge(thousand.span(), kT0);
  CHECK(limiter.DelayFor(one.span(), kT0) == 1);  // one record more, at 1,000 records/s
  limiter.Charge(one.span(), kT0);
  CHECK(limiter.DelayFor(one.span(), kT0) == 2);  // one record owed, one wanted
  limiter.Charge(more.span(), kT0 + 1);           // paid 1 back, 500 more
  CHECK(limiter.DelayFor(one.span(), kT0 + 1) == 501);
}

TEST_CASE("The percentage scales both limits", "[rate]") {
  Records requests;
  requests.Add("A", 10, 150);
  SECTION("10%: 100 records/s") {
    ShardRateLimiter limiter(10);
    limiter.Charge(requests.span(), kT0);  // 100 - 150 records; 150 wanted, a full bucket of 100 will do
    CHECK(limiter.DelayFor(requests.span(), kT0) == 1500);
  }
  SECTION("50%: 500 records/s") {
    ShardRateLimiter limiter(50);
    limiter.Charge(requests.span(), kT0);
    limiter.Charge(requests.span(), kT0);
    limiter.Charge(requests.span(), kT0);
    limiter.Charge(requests.span(), kT0);  // 500 - 600 records; 150 wanted
    CHECK(limiter.DelayFor(requests.span(), kT0) == 500);
  }
  SECTION("100%: 150 records fit") {
    ShardRateLimiter limiter(100);
    limiter.Charge(requests.span(), kT0);
    CHECK(limiter.DelayFor(requests.span(), kT0) == 0);
  }
  SECTION("10% of 1 MiB/s in bytes") {
    ShardRateLimiter limiter(10);
    Records big;
    big.Add("A", kMiB / 10 + kMiB / 10);  // 0.2 MiB against a bucket of 0.1 MiB, at 0.1 MiB/s
    limiter.Charge(big.span(), kT0);
    const std::uint64_t delay = limiter.DelayFor(big.span(), kT0);
    CHECK(delay >= 2000);
    CHECK(delay <= 2001);  // 1 MiB / 10 is not a whole number of bytes
  }
  SECTION("Above 100%, for streams with raised limits") {
    ShardRateLimiter limiter(200);
    Records big;
    big.Add("A", 3 * kMiB);
    limiter.Charge(big.span(), kT0);  // 2 MiB - 3 MiB at 2 MiB/s, until the bucket is full
    CHECK(limiter.DelayFor(big.span(), kT0) == 1500);
  }
}

TEST_CASE("Shards are limited independently; a request waits for its slowest shard", "[rate]") {
  ShardRateLimiter limiter(100);
  Records a, b, both;
  a.Add("A", 2 * kMiB);
  b.Add("B", kMiB / 2);
  both.Add("A", 100).Add("B", 100);
  limiter.Charge(a.span(), kT0);  // A: -1 MiB
  CHECK(limiter.DelayFor(b.span(), kT0) == 0);
  limiter.Charge(b.span(), kT0);  // B: +512 KiB
  CHECK(limiter.DelayFor(b.span(), kT0) == 0);
  CHECK(limiter.DelayFor(a.span(), kT0) == 2000);
  CHECK(limiter.DelayFor(both.span(), kT0) == 1001);  // A's debt and 100 bytes
  CHECK(limiter.tracked_shards() == 2);
}

TEST_CASE("Records without a predicted shard are not limited", "[rate]") {
  ShardRateLimiter limiter(1);
  Records raw, mixed;
  raw.Add("", 5 * kMiB, 3);
  limiter.Charge(raw.span(), kT0);
  CHECK(limiter.DelayFor(raw.span(), kT0) == 0);
  CHECK(limiter.tracked_shards() == 0);
  // In a mixed request only the predicted part is charged: 10 records at 1% (10 records/s), a second.
  mixed.Add("", kMiB, 5).Add("A", 100, 10);
  limiter.Charge(mixed.span(), kT0);
  CHECK(limiter.DelayFor(mixed.span(), kT0) == 1000);
  CHECK(limiter.tracked_shards() == 1);
  const RequestLoad load = RequestLoad::Of(mixed.span());
  CHECK(load.any_lane);
  REQUIRE(load.lanes.size() == 1);
  CHECK(load.lanes[0].records == 10);
  CHECK(load.lanes[0].bytes == 1000);
}

TEST_CASE("A request's load is summed per shard, sorted by shard", "[rate]") {
  Records r;
  r.Add("B", 10).Add("A", 20).Add("B", 30, 2);
  const RequestLoad load = RequestLoad::Of(r.span());
  CHECK_FALSE(load.any_lane);
  REQUIRE(load.lanes.size() == 2);
  CHECK(load.lanes[0].lane == "A");
  CHECK(load.lanes[0].bytes == 20);
  CHECK(load.lanes[0].records == 1);
  CHECK(load.lanes[1].lane == "B");
  CHECK(load.lanes[1].bytes == 70);
  CHECK(load.lanes[1].records == 3);
}

TEST_CASE("Idle full buckets are forgotten, buckets in debt are kept", "[rate]") {
  ShardRateLimiter limiter(1);  // 10,486 B/s: 5 MiB takes about 8 minutes to pay back
  Records a, b, c;
  a.Add("A", 100);
  b.Add("B", 100);
  c.Add("C", 5 * kMiB);
  limiter.Charge(a.span(), kT0);
  limiter.Charge(c.span(), kT0);
  limiter.Charge(b.span(), kT0 + 1000);
  CHECK(limiter.tracked_shards() == 3);
  limiter.Charge(b.span(), kT0 + 30000);  // A idle for 30 s only
  CHECK(limiter.tracked_shards() == 3);
  limiter.Charge(b.span(), kT0 + ShardRateLimiter::kForgetAfterMs + 1);
  CHECK(limiter.tracked_shards() == 2);  // A went; C still owes, B is in use
  CHECK(limiter.DelayFor(c.span(), kT0 + ShardRateLimiter::kForgetAfterMs + 1) > 0);
  CHECK(limiter.DelayFor(a.span(), kT0 + ShardRateLimiter::kForgetAfterMs + 1) == 0);
}

TEST_CASE("Percent 0 turns limiting off", "[rate]") {
  ShardRateLimiter limiter(0);
  Records big;
  big.Add("A", 5 * kMiB, 3);
  CHECK_FALSE(limiter.enabled());
  limiter.Charge(big.span(), kT0);
  limiter.Charge(big.span(), kT0);
  CHECK(limiter.DelayFor(big.span(), kT0) == 0);
  CHECK(limiter.tracked_shards() == 0);
}

using Verdict = ShardAdmission::Verdict;

TEST_CASE("Admission: a throttled request holds back later ones of its shards only", "[rate]") {
  ShardAdmission admission(100, false);
  Records big, a, b, ab;
  big.Add("A", 2 * kMiB);
  a.Add("A", 10);
  b.Add("B", 10);
  ab.Add("A", 10).Add("B", 10);
  const RequestLoad big_load = RequestLoad::Of(big.span());
  const RequestLoad a_load = RequestLoad::Of(a.span());
  const RequestLoad b_load = RequestLoad::Of(b.span());
  const RequestLoad ab_load = RequestLoad::Of(ab.span());
  admission.BeginPass(kT0);
  REQUIRE(admission.Consider(big_load) == Verdict::kGo);
  admission.Sent(big_load, kT0);  // A: -1 MiB
  CHECK(admission.Consider(a_load) == Verdict::kThrottled);
  CHECK(admission.delay() == 1001);                        // the debt and a's 10 bytes
  CHECK(admission.Consider(ab_load) == Verdict::kBehind);  // would overtake a on A
  CHECK(admission.Consider(b_load) == Verdict::kBehind);   // B is held by ab now
  admission.BeginPass(kT0 + 1);
  CHECK(admission.Consider(b_load) == Verdict::kGo);  // a new pass forgets what was held
  CHECK(admission.pass_open());
  CHECK(admission.busy_shards() == 0);  // not one_request_per_shard
  admission.BeginPass(kT0 + 1001);
  CHECK(admission.Consider(a_load) == Verdict::kGo);
  CHECK(admission.delay() == 0);
}

TEST_CASE("Admission: records without a predicted shard neither overtake nor are overtaken", "[rate]") {
  ShardAdmission admission(100, true);
  Records a, b, raw, raw_b;
  a.Add("A", 10);
  b.Add("B", 10);
  raw.Add("", 10);
  raw_b.Add("", 10).Add("B", 10);
  const RequestLoad a_load = RequestLoad::Of(a.span());
  const RequestLoad b_load = RequestLoad::Of(b.span());
  const RequestLoad raw_load = RequestLoad::Of(raw.span());
  const RequestLoad raw_b_load = RequestLoad::Of(raw_b.span());
  admission.BeginPass(kT0);
  CHECK(admission.Consider(raw_load) == Verdict::kGo);  // nothing held: raw records just go
  admission.Sent(raw_load, kT0);
  CHECK(admission.busy_shards() == 0);
  CHECK(admission.Consider(a_load) == Verdict::kGo);
  admission.Sent(a_load, kT0);
  CHECK(admission.busy_shards() == 1);
  admission.BeginPass(kT0);
  CHECK(admission.Consider(a_load) == Verdict::kLaneBusy);
  CHECK(admission.Consider(raw_b_load) == Verdict::kBehind);  // its raw record might be on A
  CHECK_FALSE(admission.pass_open());
  CHECK(admission.Consider(b_load) == Verdict::kBehind);
  admission.Free(a_load);
  admission.BeginPass(kT0);
  CHECK(admission.Consider(raw_b_load) == Verdict::kGo);
}

TEST_CASE("Admission: a shard stays busy until every holder frees it", "[rate]") {
  Records a, ab;
  a.Add("A", 10);
  ab.Add("A", 10).Add("B", 10);
  const RequestLoad a_load = RequestLoad::Of(a.span());
  const RequestLoad ab_load = RequestLoad::Of(ab.span());
  ShardAdmission admission(0, true);
  admission.Sent(ab_load, kT0);  // in flight
  admission.Occupy(a_load);      // and a failed part waiting for its retry
  CHECK(admission.busy_shards() == 2);
  admission.Free(ab_load);
  CHECK(admission.busy_shards() == 1);
  admission.BeginPass(kT0);
  CHECK(admission.Consider(a_load) == Verdict::kLaneBusy);
  admission.Free(a_load);
  CHECK(admission.busy_shards() == 0);
  admission.BeginPass(kT0);
  CHECK(admission.Consider(ab_load) == Verdict::kGo);
}

}  // namespace
}  // namespace ferry::kinesis
