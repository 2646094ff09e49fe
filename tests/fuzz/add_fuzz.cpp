// Fuzz target: records through the add plugin in auto mode, made from its YAML through the registry with
// every kind of addition (templates with ${file}, ${hostname}, ${flow}, a static value, the read time,
// the record id). The input is "file name\nrecord" (no newline: the whole input is the record, the file
// a fixed name), so file names with quotes, control characters and invalid UTF-8 are fuzzed too. Checks:
// a record RapidJSON reads as one JSON object (UTF-8 checked, numbers of any size, any depth) comes out
// as one JSON object that keeps the record's bytes
// around its closing brace and has the added members as strings; any other record comes out as the
// logfmt pairs, a space and the record's bytes, unless simdjson reads it as an object where RapidJSON
// cannot (numbers past its range): then the output must read as one too. A record with a NUL byte is text
// (RapidJSON's DOM reader, the oracle here, would take the NUL for the end of its input). Single-threaded,
// like libFuzzer's driver.
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <simdjson.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <yaml-cpp/yaml.h>

#include "agent/core/batch.h"
#include "agent/core/clock.h"
#include "agent/pipeline/plugin.h"
#include "plugins/builtin_plugins.h"

namespace {

using ferry::plugins::PluginEnv;

class Fixed : public ferry::Clock {
 public:
  std::int64_t UnixSeconds() const override { return 1'700'000'000; }
};

ferry::Plugin& AddPlugin() {
  static uv_loop_t loop;
  static Fixed clock;
  static auto log =
      std::make_shared<spdlog::logger>("add-fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  static std::unique_ptr<ferry::Plugin> plugin = [] {
    uv_loop_init(&loop);
    const ferry::plugins::PluginKind* kind = ferry::plugins::FindPlugin("add");
    if (kind == nullptr) std::abort();
    ferry::config::ParseContext ctx("fuzz.yaml");
    ferry::plugins::PluginSpec spec;
    kind->Parse(
        YAML::Load(R"({ fields: { host: "${hostname}", file: "f=${file}", flow: "${flow}", env: prod },
                               timestamp: time, record_id: id })"),
        "add", ctx, spec);
    if (!ctx.errors().empty()) std::abort();
    auto made = kind->Make(spec, PluginEnv{&loop, clock, "web", "edge-1", *log});
    if (!made) std::abort();
    return std::move(*made);
  }();
  return *plugin;
}

// RFC 8259 JSON (UTF-8 checked), read without recursion. From a plain MemoryStream: Document::Parse(str,
// length) would wrap it in an EncodedInputStream, which skips each byte of a UTF-8 BOM on its own
// ("\xBB{}" would be an object).
bool IsObject(std::string_view text, rapidjson::Document& d) {
  rapidjson::MemoryStream stream(text.data(), text.size());
  d.ParseStream<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                rapidjson::kParseNumbersAsStringsFlag>(stream);
  return !d.HasParseError() && d.IsObject();
}

bool StringMember(const rapidjson::Document& d, const char* key) {
  const auto it = d.FindMember(key);
  return it != d.MemberEnd() && it->value.IsString();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string file = "/var/log/app.log";
  std::string_view record = input;
  if (const std::size_t nl = input.find('\n'); nl != std::string_view::npos) {
    file = std::string(input.substr(0, nl));
    record = input.substr(nl + 1);
  }
  ferry::BatchRef batch(new ferry::Batch(1, 0, nullptr, 4096, nullptr));
  batch->set_origin(std::make_shared<const std::string>(file));
  batch->set_read_time_ms(static_cast<std::int64_t>(size) * 1'000'003);
  batch->set_file_id(0x1234abcd5678ef00ULL);
  batch->records().push_back({batch->arena().Copy(record), record.size() + 1});
  bool done = false;
  ferry::PluginBatch work(batch, [&done](ferry::PluginBatch&) { done = true; });
  AddPlugin().Process(work);
  if (!done || work.verdict(0) != ferry::Verdict::kReplace) std::abort();
  const std::string_view out = work.replacement(0);

  const bool as_text = out.starts_with("host=edge-1 ");
  // A raw NUL is nowhere valid in JSON (not even in a string), so such a record is text.
  if (record.find('\0') != std::string_view::npos) {
    if (!as_text || !out.ends_with(record)) std::abort();
    return 0;
  }
  rapidjson::Document in_doc;
  if (IsObject(record, in_doc)) {
    rapidjson::Document out_doc;
    if (!IsObject(out, out_doc)) std::abort();
    // Whatever the record had, our keys are there as strings (its own value if it had the key).
    for (const char* key : {"host", "file", "flow", "env", "time", "id"}) {
      if (!in_doc.HasMember(key) && !StringMember(out_doc, key)) std::abort();
    }
    if (out_doc.MemberCount() < in_doc.MemberCount()) std::abort();
    // The record's bytes before its closing brace and from it on are kept.
    const std::size_t close = record.find_last_of('}');
    if (!out.starts_with(record.substr(0, close)) || !out.ends_with(record.substr(close))) std::abort();
    if (as_text) std::abort();
  } else if (as_text) {
    if (!out.ends_with(record)) std::abort();
  } else {
    // RapidJSON refused it and add took it for an object: only JSON simdjson reads and RapidJSON cannot hold
    // (an exponent like 0E561806) may be that, and the output must then read as an object too.
    simdjson::dom::parser parser;
    if (parser.parse(record.data(), record.size()).get_object().error() != simdjson::SUCCESS) std::abort();
    if (parser.parse(out.data(), out.size()).get_object().error() != simdjson::SUCCESS) std::abort();
    const std::size_t close = record.find_last_of('}');
    if (!out.starts_with(record.substr(0, close)) || !out.ends_with(record.substr(close))) std::abort();
  }
  return 0;
}
