// Fuzz target: records through a configured `json` plugin, made from its YAML through the registry as a
// flow would make it. The first byte picks the options (keep_where, where, keep, drop, mask, rename on
// WAF-like fields); the rest is a batch of records split at newlines, each copied into an allocation of its
// exact size so AddressSanitizer sees any read past a record. Checks that every record gets a verdict; that
// what is kept or written is one JSON object RapidJSON accepts (strings valid UTF-8); that a record the
// plugin calls "not JSON" is one RapidJSON refuses too (unless it holds a NUL byte, which RapidJSON takes for
// the end, or starts with a byte of a UTF-8 BOM, which RapidJSON skips); and that the plugin's output is a
// fixed point: run again, it comes back unchanged. Single-threaded, like libFuzzer's driver.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <yaml-cpp/yaml.h>

#include "agent/core/batch.h"
#include "agent/core/clock.h"
#include "agent/pipeline/plugin.h"
#include "plugins/builtin_plugins.h"

namespace {

using ferry::Verdict;

constexpr const char* kOptions[] = {
    R"({ mask: 'httpRequest.headers[name in [i"cookie", i"authorization"]].value' })",
    R"({ keep_where: 'action != "ALLOW" and (a exists or not b in [1, "x", null])', drop: ['a[]', b.c],
         where: 'c == i"x" or d != 2' })",
    R"({ keep: [action, 'httpRequest.headers[name == "Host"]', 'a[0]'] })",
    R"({ rename: { httpRequest.clientIp: ip, 'a[].x': y } })",
    R"({ mask: ['@.a', '"k.k"'], drop: 'h[@ == i"z"]', mask_with: "\u00e9" })",
};
constexpr std::size_t kOptionCount = sizeof kOptions / sizeof kOptions[0];

struct Made {
  std::unique_ptr<ferry::Plugin> plugin;
};

ferry::Plugin& PluginFor(std::size_t choice) {
  static ferry::SystemClock clock;
  static auto log = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  static std::vector<Made> made = [] {
    std::vector<Made> all;
    const ferry::plugins::PluginKind* kind = ferry::plugins::FindPlugin("json");
    if (kind == nullptr) std::abort();
    for (const char* options : kOptions) {
      ferry::config::ParseContext ctx("fuzz.yaml");
      ferry::plugins::PluginSpec spec;
      kind->Parse(YAML::Load(options), "json", ctx, spec);
      if (!ctx.errors().empty()) std::abort();
      ferry::plugins::PluginEnv env{nullptr, clock, "flow", "host", *log};
      auto plugin = kind->Make(spec, env);
      if (!plugin) std::abort();
      all.push_back({std::move(*plugin)});
    }
    return all;
  }();
  return *made[choice].plugin;
}

// Runs records through plugin; out gets each verdict and the bytes that go on.
void Run(ferry::Plugin& plugin, const std::vector<std::string_view>& records, std::vector<Verdict>& verdicts,
         std::vector<std::string>& texts, std::vector<std::string>& reasons) {
  ferry::BatchRef batch(new ferry::Batch(1, 0, nullptr, 4096, nullptr));
  std::vector<std::unique_ptr<char[]>> exact;
  for (std::string_view r : records) {
    exact.emplace_back(new char[r.empty() ? 1 : r.size()]);
    if (!r.empty()) std::memcpy(exact.back().get(), r.data(), r.size());
    batch->records().push_back({std::string_view(exact.back().get(), r.size()), 0});
  }
  bool done = false;
  ferry::PluginBatch work(batch, [&done](ferry::PluginBatch&) { done = true; });
  plugin.Process(work);
  if (!done) std::abort();  // the json plugin decides synchronously
  for (std::size_t i = 0; i < records.size(); ++i) {
    verdicts.push_back(work.verdict(i));
    texts.emplace_back(work.verdict(i) == Verdict::kReplace ? work.replacement(i) : records[i]);
    reasons.emplace_back(work.reason(i));
  }
}

bool RapidJsonObject(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

// RapidJSON's length-taking Parse reads through a stream that first skips each byte of a UTF-8 BOM
// (EF BB BF) alone, so a record starting with any of them can be one it accepts and the plugin does not.
// (Its NUL-terminated Parse reads past the end of a cut UTF-8 sequence, so it cannot serve instead.)
bool StartsWithBomByte(std::string_view text) {
  if (text.empty()) return false;
  const auto c = static_cast<unsigned char>(text.front());
  return c == 0xEF || c == 0xBB || c == 0xBF;
}

std::size_t Opens(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (c == '{' || c == '[') ? 1 : 0;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  ferry::Plugin& plugin = PluginFor(data[0] % kOptionCount);
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> records;
  for (std::size_t start = 0;;) {
    const std::size_t end = input.find('\n', start);
    records.push_back(
        input.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  std::vector<Verdict> verdicts;
  std::vector<std::string> texts;
  std::vector<std::string> reasons;
  Run(plugin, records, verdicts, texts, reasons);

  std::vector<std::string_view> outputs;
  for (std::size_t i = 0; i < records.size(); ++i) {
    switch (verdicts[i]) {
      case Verdict::kKeep:
      case Verdict::kReplace:
        if (!RapidJsonObject(texts[i])) std::abort();
        outputs.push_back(texts[i]);
        break;
      case Verdict::kDrop:
        break;
      case Verdict::kFail:
        if (reasons[i].empty()) std::abort();
        if (reasons[i].rfind("not JSON", 0) == 0 && records[i].find('\0') == std::string_view::npos &&
            Opens(records[i]) < 100 && !StartsWithBomByte(records[i]) && RapidJsonObject(records[i])) {
          std::abort();
        }
        break;
      default:
        std::abort();  // undecided
    }
  }
  // The output is a fixed point: through the plugin again, it is kept or written the same.
  std::vector<Verdict> again;
  std::vector<std::string> again_texts;
  std::vector<std::string> again_reasons;
  Run(plugin, outputs, again, again_texts, again_reasons);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (again[i] == Verdict::kKeep) continue;
    if (again[i] != Verdict::kReplace || again_texts[i] != outputs[i]) std::abort();
  }
  return 0;
}
