// Fuzz target: records through the redact plugin with the whole pattern library, once on the raw record and
// once with `fields:` on JSON records. Checks that no record fails and none crashes; that a kept record is
// unchanged and the same record gives the same result twice (scratch space reused between records leaks
// nothing); that no card number survives: a run of exactly 16 digits starting 2-6, Luhn-valid, between
// blanks, quotes, = , or : (or the record's ends), found by a scan that shares no code with the regexes,
// is never in the output; and that with fields a record that is JSON (by RapidJSON's own full parse) stays
// JSON. Single-threaded, like libFuzzer's driver.
#include <uv.h>

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <yaml-cpp/yaml.h>

#include "agent/core/batch.h"
#include "agent/core/clock.h"
#include "agent/pipeline/plugin.h"
#include "plugins/builtin_plugins.h"

namespace {

using namespace ferry;

class ZeroClock : public Clock {
 public:
  std::int64_t UnixSeconds() const override { return 0; }
};

struct Env {
  uv_loop_t loop{};
  ZeroClock clock;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  std::unique_ptr<Plugin> raw;
  std::unique_ptr<Plugin> json;

  Env() {
    uv_loop_init(&loop);
    raw = Make(
        "{ patterns: [email, ipv4, ipv6, credit_card, aws_access_key_id, aws_secret_access_key, "
        "bearer_token, jwt, url_password, us_ssn, iban, phone_e164, { regex: 'pw=(\\w*)', group: 1 }], "
        "replace: '[REDACTED]', emails_in_urls: keep }");
    json = Make(
        "{ patterns: [email, credit_card, bearer_token, jwt, url_password], replace: { mask: { keep_last: 4, "
        "char: '\"' } }, fields: [a, 'b[]', 'h[name == i\"x\"].v'] }");
  }

  std::unique_ptr<Plugin> Make(const std::string& yaml) {
    const plugins::PluginKind* kind = plugins::FindPlugin("redact");
    if (kind == nullptr) std::abort();
    config::ParseContext ctx("fuzz.yaml");
    plugins::PluginSpec spec;
    kind->Parse(YAML::Load(yaml), "redact", ctx, spec);
    if (!ctx.errors().empty()) std::abort();
    plugins::PluginEnv env{&loop, clock, "fuzz", "host", *log};
    auto made = kind->Make(spec, env);
    if (!made) std::abort();
    return std::move(*made);
  }
};

// The record after plugin: its replacement or itself.
std::string Run(Plugin& plugin, std::string_view record) {
  BatchRef batch(new Batch(1, 0, nullptr, 4096, nullptr));
  batch->records().push_back({batch->arena().Copy(record), record.size() + 1});
  bool done = false;
  PluginBatch work(batch, [&done](PluginBatch&) { done = true; });
  plugin.Process(work);
  if (!done) std::abort();
  Verdict v = work.verdict(0);
  if (v == Verdict::kKeep) return std::string(record);
  if (v != Verdict::kReplace) std::abort();  // never fails, never drops
  return std::string(work.replacement(0));
}

bool Luhn(std::string_view digits) {
  int sum = 0;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    int d = digits[digits.size() - 1 - i] - '0';
    if (i % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 == 0;
}

bool Bounds(char c) {
  return c == ' ' || c == '\t' || c == '"' || c == '=' || c == ',' || c == ':';
}

// A 16-digit card number between bounds, if text holds one.
bool HasBoundedCard(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    bool left = i == 0 || Bounds(text[i - 1]);
    bool right = j == text.size() || Bounds(text[j]);
    if (j - i == 16 && left && right && text[i] >= '2' && text[i] <= '6' && Luhn(text.substr(i, 16)))
      return true;
    i = j;
  }
  return false;
}

// Parsed from a NUL-terminated string: the (pointer, length) form skips stray BOM bytes (a lone 0xBF) at
// the start, which the plugin's in-situ parse rightly takes for text.
bool IsJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str());
  return !doc.HasParseError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Env env;
  std::string_view record(reinterpret_cast<const char*>(data), size);

  std::string out = Run(*env.raw, record);
  if (Run(*env.raw, record) != out) std::abort();
  if (HasBoundedCard(out)) std::abort();

  std::string json = Run(*env.json, record);
  if (Run(*env.json, record) != json) std::abort();
  // With fields, a record that is JSON stays JSON (a NUL in it makes it text).
  if (record.find('\0') == std::string_view::npos && IsJson(std::string(record)) && !IsJson(json))
    std::abort();
  return 0;
}
