// Tests of the sample plugin (plugins/sample): 1 in N by a count that runs across batches; by the stable
// hash of a key (the file, a JSON field, a regex capture) so records with the same key stay together;
// records without the key sampled by count; the hash pinned to its documented definition; and options
// refused at their place in the config.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "plugins/sample/key_hash.h"
#include "tests/unit/plugin_harness.h"

namespace ferry::plugins {
namespace {

std::vector<Verdict> Verdicts(const std::vector<PluginOutcome>& out) {
  std::vector<Verdict> v;
  for (const auto& o : out) v.push_back(o.verdict);
  return v;
}

constexpr Verdict K = Verdict::kKeep;
constexpr Verdict D = Verdict::kDrop;

TEST_CASE("sample keeps the 1st record of every rate, counting across batches", "[sample]") {
  PluginHarness h("sample", "{ rate: 3 }");
  REQUIRE(h.ok());
  CHECK(Verdicts(h.Run({"a", "b", "c", "d"})) == std::vector<Verdict>{K, D, D, K});
  CHECK(Verdicts(h.Run({"e", "f", "", "\xff"})) == std::vector<Verdict>{D, D, K, D});
  PluginHarness all("sample", "{ rate: 1 }");
  REQUIRE(all.ok());
  CHECK(Verdicts(all.Run({"a", "b"})) == std::vector<Verdict>{K, K});
}

TEST_CASE("sample's key hash is FNV-1a 64 finalized with fmix64", "[sample]") {
  // Values from an independent implementation of the documented definition.
  CHECK(KeyHash("") == 0xefd01f60ba992926ULL);
  CHECK(KeyHash("a") == 0x82a2a958a9bece5bULL);
  CHECK(KeyHash("user-1") == 0x41a2fca5c68401c5ULL);
  CHECK(KeyHash("/var/log/app.log") == 0x783e26421f183cc8ULL);
}

TEST_CASE("sample by a JSON field keeps or drops all records of a key together", "[sample]") {
  PluginHarness h("sample", "{ rate: 4, key: user.id }");
  REQUIRE(h.ok());
  // Of u0..u39, the keys whose hash % 4 == 0 are u3, u5, u7, u15, u32, u38, u39.
  const std::vector<int> kept = {3, 5, 7, 15, 32, 38, 39};
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> records;
    for (int u = 0; u < 40; ++u) {
      records.push_back(R"({"user":{"id":"u)" + std::to_string(u) + R"("},"n":)" + std::to_string(round) +
                        "}");
    }
    auto out = h.Run(records);
    for (int u = 0; u < 40; ++u) {
      CAPTURE(u, round);
      const bool keep = std::find(kept.begin(), kept.end(), u) != kept.end();
      CHECK(out[u].verdict == (keep ? K : D));
    }
  }
  // Numbers key by their JSON text, as strings do by their characters.
  CHECK(h.Run({R"({"user":{"id":3}})"})[0].verdict == h.Run({R"({"user":{"id":"3"}})"})[0].verdict);
}

TEST_CASE("sample counts records without the key: not JSON, field missing, not a scalar", "[sample]") {
  PluginHarness h("sample", "{ rate: 2, key: user }");
  REQUIRE(h.ok());
  const bool u3_kept = KeyHash("u3") % 2 == 0;
  auto out = h.Run(
      {"not json", R"({"user":"u3"})", R"({"other":1})", R"({"user":{"a":1}})", "{\"user\":", "", "{}"});
  CHECK(out[0].verdict == K);  // count 0
  CHECK(out[1].verdict == (u3_kept ? K : D));
  CHECK(out[2].verdict == D);  // count 1
  CHECK(out[3].verdict == K);  // count 2
  CHECK(out[4].verdict == D);  // count 3
  CHECK(out[5].verdict == K);  // count 4, an empty record
  CHECK(out[6].verdict == D);  // count 5
}

TEST_CASE("sample by file or by a regex capture of the raw record", "[sample]") {
  PluginHarness by_file("sample", R"({ rate: 2, key: "${file}" })");
  REQUIRE(by_file.ok());
  RecordOrigin a;
  a.file = "/var/log/a.log";
  RecordOrigin b;
  b.file = "/var/log/b.log";
  const Verdict a_verdict = KeyHash(a.file) % 2 == 0 ? K : D;
  const Verdict b_verdict = KeyHash(b.file) % 2 == 0 ? K : D;
  REQUIRE(a_verdict != b_verdict);  // the test needs one file kept and one dropped
  CHECK(Verdicts(by_file.Run({"x", "y", "z"}, a)) == std::vector<Verdict>(3, a_verdict));
  CHECK(Verdicts(by_file.Run({"x", "y", "z"}, b)) == std::vector<Verdict>(3, b_verdict));

  PluginHarness by_regex("sample", R"({ rate: 4, key_regex: 'user=(\w+)' })");
  REQUIRE(by_regex.ok());
  CHECK(Verdicts(by_regex.Run({"GET / user=u3 200", "user=u4 x", "POST user=u3"})) ==
        std::vector<Verdict>{K, KeyHash("u4") % 4 == 0 ? K : D, K});
  // No group: the whole match is the key; no match: counted (the count starts at 0, so kept).
  PluginHarness whole("sample", R"({ rate: 4, key_regex: 'u\d+' })");
  REQUIRE(whole.ok());
  CHECK(Verdicts(whole.Run({"a u3 b", "nothing", "nothing"})) == std::vector<Verdict>{K, K, D});
}

TEST_CASE("sample prints its effective options so that they read back the same", "[sample]") {
  auto emitted = [](const PluginHarness& h) {
    YAML::Emitter out;
    h.spec().kind->Emit(out, h.spec());
    return std::string(out.c_str());
  };
  PluginHarness h("sample", R"({ rate: 3, key_regex: 'u=(\\d+)' })");
  REQUIRE(h.ok());
  PluginHarness again("sample", emitted(h));
  REQUIRE(again.ok());
  CHECK(emitted(again) == emitted(h));
  CHECK(again.One("u=12") == h.One("u=12"));
  std::string keys;
  h.spec().kind->Describe(keys, "flows[].plugins[].sample");
  CHECK_THAT(keys, Catch::Contains("flows[].plugins[].sample.key_regex") && Catch::Contains("on_error"));
}

TEST_CASE("sample refuses bad options at their place in the config", "[sample]") {
  auto errors = [](const char* yaml) {
    PluginHarness h("sample", yaml);
    CHECK_FALSE(h.ok());
    return h.all_errors();
  };
  CHECK_THAT(errors("{ key: a }"),
             Catch::Contains("ferry.yaml:1:1: flows[0].plugins[0].sample.rate: missing required key"));
  CHECK_THAT(errors("{ rate: 0 }"), Catch::Contains("ferry.yaml:1:9: flows[0].plugins[0].sample.rate"));
  CHECK_THAT(errors("{ rate: ten }"), Catch::Contains("sample.rate"));
  CHECK_THAT(errors("{ rate: 2, key: 'a[' }"),
             Catch::Contains("ferry.yaml:1:17: flows[0].plugins[0].sample.key: invalid field path 'a['"));
  CHECK_THAT(errors(R"({ rate: 2, key: "${host}" })"),
             Catch::Contains("sample.key: the only variable a key takes is ${file}"));
  CHECK_THAT(errors("{ rate: 2, key_regex: '(' }"),
             Catch::Contains(
                 "ferry.yaml:1:23: flows[0].plugins[0].sample.key_regex: not a valid regular expression"));
  CHECK_THAT(errors("{ rate: 2, key: a, key_regex: b }"),
             Catch::Contains(
                 "ferry.yaml:1:31: flows[0].plugins[0].sample.key_regex: give key or key_regex, not both"));
}

}  // namespace
}  // namespace ferry::plugins
