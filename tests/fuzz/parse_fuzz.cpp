// Fuzz target: the parse plugin on arbitrary lines in every format. The first byte picks the format (the
// seven formats, and apache_common through a match_pattern regex); the rest is one record. Checks that
// every record gets a verdict at once; that a replaced record is one JSON object of valid UTF-8 (RapidJSON,
// which shares no code with the plugin's writer, with encoding validation) whose keys are the format's
// field names in order and whose values are strings or null; and, when the line is valid UTF-8, that every
// value is text of the line (csv's "" unescaped, RFC 5424's BOM dropped). Single-threaded, like libFuzzer's
// driver; the plugins are made once.
#include <uv.h>

#include <rapidjson/document.h>
#include <simdjson.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
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

using namespace ferry;
using namespace ferry::plugins;

struct FixedClock : Clock {
  std::int64_t UnixSeconds() const override { return 1'700'000'000; }
};

struct Format {
  const char* options;
  std::vector<std::string> keys;
};

const std::array<Format, 8>& Formats() {
  static const std::array<Format, 8> formats = {{
      {"{ format: apache_common }",
       {"host", "ident", "authuser", "datetime", "request", "response", "bytes"}},
      {"{ format: apache_combined }",
       {"host", "ident", "authuser", "datetime", "request", "response", "bytes", "referer", "agent"}},
      {"{ format: apache_error }",
       {"timestamp", "module", "severity", "processid", "threadid", "client", "message"}},
      {"{ format: syslog_rfc3164 }", {"timestamp", "hostname", "program", "processid", "message"}},
      {"{ format: syslog_rfc5424 }",
       {"priority", "version", "timestamp", "hostname", "program", "processid", "msgid", "structureddata",
        "message"}},
      {"{ format: csv, field_names: [a, b, c, d, e] }", {"a", "b", "c", "d", "e"}},
      {R"({ format: regex, match_pattern: '(?P<time>\S+ \S+) \[(?P<level>\w+)\] (?P<pid>\d+)#(?P<tid>\d+): )"
       R"((?:\*(?P<connection>\d+) )?(?P<message>.*)' })",
       {"time", "level", "pid", "tid", "connection", "message"}},
      {R"x({ format: apache_common, match_pattern: '(\S+) (\S+) (\S+) \[([^\]]*)\] "((?:[^"\\]|\\.)*)" (\S+) (\S+).*' })x",
       {"host", "ident", "authuser", "datetime", "request", "response", "bytes"}},
  }};
  return formats;
}

struct Plugins {
  uv_loop_t loop{};
  FixedClock clock;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  std::vector<std::unique_ptr<Plugin>> made;

  Plugins() {
    uv_loop_init(&loop);
    for (const Format& f : Formats()) {
      config::ParseContext ctx("fuzz.yaml");
      PluginSpec spec;
      const PluginKind* kind = FindPlugin("parse");
      if (kind == nullptr) std::abort();
      kind->Parse(YAML::Load(f.options), "parse", ctx, spec);
      if (!ctx.errors().empty()) std::abort();
      auto plugin = kind->Make(spec, PluginEnv{&loop, clock, "flow", "host", *log});
      if (!plugin) std::abort();
      made.push_back(std::move(*plugin));
    }
  }
};

void Check(bool ok) {
  if (!ok) std::abort();
}

// The value as it may stand in the line: itself, or for csv with each quote doubled.
bool InLine(std::string_view line, std::string_view value, bool csv) {
  if (line.find(value) != std::string_view::npos) return true;
  if (!csv) return false;
  std::string doubled;
  for (char c : value) doubled += c == '"' ? std::string("\"\"") : std::string(1, c);
  return line.find(doubled) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Plugins plugins;
  if (size == 0) return 0;
  const std::size_t which = data[0] % Formats().size();
  const std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);

  BatchRef batch(new Batch(1, 0, nullptr, 4096, nullptr));
  batch->records().push_back({batch->arena().Copy(line), line.size() + 1});
  bool done = false;
  PluginBatch work(batch, [&done](PluginBatch&) { done = true; });
  plugins.made[which]->Process(work);
  Check(done);
  Verdict verdict = work.verdict(0);
  Check(verdict == Verdict::kReplace || verdict == Verdict::kFail);
  if (verdict == Verdict::kFail) {
    Check(!work.reason(0).empty());
    return 0;
  }
  std::string json(work.replacement(0));
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  Check(!doc.HasParseError() && doc.IsObject());
  const std::vector<std::string>& keys = Formats()[which].keys;
  Check(doc.MemberCount() == keys.size());
  const bool valid_utf8 = simdjson::validate_utf8(line.data(), line.size());
  // By index: clang rejects RapidJSON's iterator comparison as ambiguous under C++20.
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const auto& member = *(doc.MemberBegin() + static_cast<std::ptrdiff_t>(k));
    Check(keys[k] == std::string_view(member.name.GetString(), member.name.GetStringLength()));
    Check(member.value.IsNull() || member.value.IsString());
    if (valid_utf8 && member.value.IsString()) {
      Check(InLine(line, std::string_view(member.value.GetString(), member.value.GetStringLength()),
                   which == 5));
    }
  }
  return 0;
}
