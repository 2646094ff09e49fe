// Tests of the throttle plugin (plugins/throttle): the token buckets under a driven clock (burst, exact
// refill, a long pause filling only to the burst, time standing still or going back, no overflow at the
// largest settings, least recently used keys evicted), the plugin's verdicts per key (field, file, regex,
// records without the key sharing one bucket) through the registry, its refill between batches under an
// injected clock, and options refused at their place in the config.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "plugins/sample/key_hash.h"
#include "plugins/throttle/throttle_plugin.h"
#include "plugins/throttle/token_buckets.h"
#include "tests/unit/plugin_harness.h"

namespace ferry::plugins {
namespace {

constexpr Verdict K = Verdict::kKeep;
constexpr Verdict D = Verdict::kDrop;

std::vector<Verdict> Verdicts(const std::vector<PluginOutcome>& out) {
  std::vector<Verdict> v;
  for (const auto& o : out) v.push_back(o.verdict);
  return v;
}

int Takes(TokenBuckets& b, std::uint64_t key, std::uint64_t now, int tries) {
  int passed = 0;
  for (int i = 0; i < tries; ++i) passed += b.Take(key, now) ? 1 : 0;
  return passed;
}

TEST_CASE("token buckets pass a burst, then refill exactly at the rate", "[throttle]") {
  TokenBuckets b(10, 1000, 10, 100);  // 10 records/s, burst 10
  CHECK(Takes(b, 1, 5000, 15) == 10);
  CHECK(Takes(b, 1, 5050, 5) == 0);  // half a record's worth
  CHECK(Takes(b, 1, 5100, 5) == 1);  // the other half
  CHECK(Takes(b, 1, 5400, 5) == 3);
  // Time standing still or going back adds nothing.
  CHECK(Takes(b, 1, 5400, 1) == 0);
  CHECK(Takes(b, 1, 4000, 1) == 0);
  // A long pause fills the bucket to its burst, not beyond.
  CHECK(Takes(b, 1, 1'000'000'000, 20) == 10);
  // Another key has its own bucket.
  CHECK(Takes(b, 2, 1'000'000'000, 20) == 10);
}

TEST_CASE("token buckets: burst apart from rate, and the largest settings without overflow", "[throttle]") {
  TokenBuckets small(1, 1000, 5, 10);  // 1 record/s, bursts of 5
  CHECK(Takes(small, 7, 0, 10) == 5);
  CHECK(Takes(small, 7, 999, 10) == 0);
  CHECK(Takes(small, 7, 1000, 10) == 1);
  TokenBuckets large(1'000'000'000, 3'600'000, 1'000'000'000, 10);
  CHECK(Takes(large, 1, 0, 1000) == 1000);
  CHECK(Takes(large, 1, UINT64_MAX, 1000) == 1000);
}

TEST_CASE("token buckets evict the least recently used key past max_keys", "[throttle]") {
  TokenBuckets b(1, 1000, 1, 2);
  CHECK(b.Take(1, 0));
  CHECK(b.Take(2, 0));
  CHECK_FALSE(b.Take(1, 0));  // 1 is now the most recently used
  CHECK(b.Take(3, 0));        // evicts 2
  CHECK(b.tracked_keys() == 2);
  CHECK_FALSE(b.Take(1, 0));  // 1 was kept, still empty
  CHECK(b.Take(2, 0));        // 2 starts again with a full bucket (evicting 3)
  CHECK(b.Take(3, 0));
}

TEST_CASE("throttle drops what exceeds the rate, per key", "[throttle]") {
  PluginHarness flow("throttle", "{ rate: 3 }");
  REQUIRE(flow.ok());
  CHECK(Verdicts(flow.Run({"a", "b", "c", "d", ""})) == std::vector<Verdict>{K, K, K, D, D});

  PluginHarness by_user("throttle", "{ rate: 2, key: user }");
  REQUIRE(by_user.ok());
  // Records without the key (not JSON, field missing) share one bucket.
  CHECK(Verdicts(by_user.Run({R"({"user":"a"})", R"({"user":"b"})", R"({"user":"a"})", R"({"user":"a"})",
                              "text", R"({"x":1})", "\xff\xfe", R"({"user":"b"})", R"({"user":"b"})", ""})) ==
        std::vector<Verdict>{K, K, K, D, K, K, D, K, D, D});

  PluginHarness by_file("throttle", R"({ rate: 1, key: "${file}" })");
  REQUIRE(by_file.ok());
  RecordOrigin other;
  other.file = "/var/log/other.log";
  CHECK(Verdicts(by_file.Run({"a", "b"})) == std::vector<Verdict>{K, D});
  CHECK(Verdicts(by_file.Run({"a", "b"}, other)) == std::vector<Verdict>{K, D});

  PluginHarness by_regex("throttle", R"({ rate: 1, burst: 2, key_regex: 'ip=(\S+)' })");
  REQUIRE(by_regex.ok());
  CHECK(Verdicts(by_regex.Run({"ip=1.2.3.4 a", "ip=1.2.3.4 b", "ip=1.2.3.4 c", "ip=5.6.7.8 d"})) ==
        std::vector<Verdict>{K, K, D, K});
}

TEST_CASE("throttle refills between batches by its clock", "[throttle]") {
  ThrottleOptions options;
  options.rate = 2;
  options.per = std::chrono::milliseconds(100);
  std::uint64_t now = 1000;
  auto plugin = MakeThrottlePlugin(options, [&now] { return now; });
  auto run = [&plugin](int n) {
    BatchRef batch(new Batch(1, 0, nullptr, 256, nullptr));
    for (int i = 0; i < n; ++i) batch->records().push_back({batch->arena().Copy("x"), 2u * (i + 1)});
    bool done = false;
    PluginBatch work(batch, [&done](PluginBatch&) { done = true; });
    plugin->Process(work);
    REQUIRE(done);  // decided synchronously
    int kept = 0;
    for (int i = 0; i < n; ++i) kept += work.verdict(i) == Verdict::kKeep ? 1 : 0;
    return kept;
  };
  CHECK(run(5) == 2);
  now += 49;
  CHECK(run(5) == 0);
  now += 1;  // 50 ms: one record's worth
  CHECK(run(5) == 1);
  now += 10'000;
  CHECK(run(5) == 2);  // the burst (rate) and no more
}

TEST_CASE("throttle prints its effective options so that they read back the same", "[throttle]") {
  auto emitted = [](const PluginHarness& h) {
    YAML::Emitter out;
    h.spec().kind->Emit(out, h.spec());
    return std::string(out.c_str());
  };
  PluginHarness h("throttle", R"({ rate: 3, per: 1m, burst: 5, max_keys: 7, key: a.b })");
  REQUIRE(h.ok());
  PluginHarness again("throttle", emitted(h));
  REQUIRE(again.ok());
  CHECK(emitted(again) == emitted(h));
  CHECK(again.One("{\"a\":{\"b\":1}}") == h.One("{\"a\":{\"b\":1}}"));
  std::string keys;
  h.spec().kind->Describe(keys, "flows[].plugins[].throttle");
  CHECK_THAT(keys, Catch::Contains("flows[].plugins[].throttle.max_keys") && Catch::Contains("on_error"));
}

TEST_CASE("throttle refuses bad options at their place in the config", "[throttle]") {
  auto errors = [](const char* yaml) {
    PluginHarness h("throttle", yaml);
    CHECK_FALSE(h.ok());
    return h.all_errors();
  };
  CHECK_THAT(errors("{ per: 1s }"),
             Catch::Contains("flows[0].plugins[0].throttle.rate: missing required key"));
  CHECK_THAT(errors("{ rate: 0 }"), Catch::Contains("ferry.yaml:1:9: flows[0].plugins[0].throttle.rate"));
  CHECK_THAT(errors("{ rate: 5, per: 0s }"),
             Catch::Contains("ferry.yaml:1:17: flows[0].plugins[0].throttle.per: must be between"));
  CHECK_THAT(errors("{ rate: 5, per: 2h }"), Catch::Contains("throttle.per: must be between"));
  CHECK_THAT(errors("{ rate: 5, per: fast }"),
             Catch::Contains("ferry.yaml:1:17: flows[0].plugins[0].throttle.per"));
  CHECK_THAT(errors("{ rate: 5, max_keys: 0 }"), Catch::Contains("throttle.max_keys"));
  CHECK_THAT(errors("{ rate: 5, burst: -1 }"), Catch::Contains("throttle.burst"));
  CHECK_THAT(
      errors("{ rate: 5, key_regex: 'a', key: b }"),
      Catch::Contains("ferry.yaml:1:33: flows[0].plugins[0].throttle.key: give key or key_regex, not both"));
  CHECK_THAT(errors("{ rate: 5, key: '.a' }"), Catch::Contains("throttle.key: invalid field path"));
}

}  // namespace
}  // namespace ferry::plugins
