// PluginHarness: makes a built-in plugin from the YAML of its entry in a flow's `plugins:` list, the way
// the config does (its kind's options table, on_error included), and runs records through it, returning
// each record's verdict. For the tests of every plugin under plugins/.
//
//   PluginHarness h("redact", "{ patterns: [email], replace: X }");
//   REQUIRE(h.ok());                       // else h.errors() holds the parser's or the maker's errors
//   auto out = h.Run({"mail a@b.example", "nothing"});
//   CHECK(out[0].verdict == Verdict::kReplace);  CHECK(out[0].text == "mail X");
#pragma once

#include <uv.h>

#include <catch2/catch.hpp>

#include <cstdint>
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

namespace ferry::plugins {

// Wall time a test sets.
class FixedClock : public Clock {
 public:
  explicit FixedClock(std::int64_t seconds) : seconds_(seconds) {}
  std::int64_t UnixSeconds() const override { return seconds_; }
  void Set(std::int64_t seconds) { seconds_ = seconds; }

 private:
  std::int64_t seconds_;
};

struct PluginOutcome {
  Verdict verdict = Verdict::kUndecided;
  std::string text;    // the record as it goes on: its replacement, or its bytes when kept or failed
  std::string reason;  // when failed
};

// Where the records of a run come from (Batch's per-record context).
struct RecordOrigin {
  std::string file = "/var/log/app.log";
  std::int64_t read_time_ms = 1'700'000'000'123;
  std::uint64_t file_id = 0x1234abcd5678ef00ULL;
  std::uint64_t start_offset = 0;
};

class PluginHarness {
 public:
  // name: the plugin; options_yaml: the value under its name ("{ exclude: x }", or "" for none).
  PluginHarness(std::string_view name, std::string_view options_yaml, std::string flow = "web",
                std::string hostname = "edge-1")
      : clock_(1'700'000'000),
        log_(std::make_shared<spdlog::logger>("plugin-test",
                                              std::make_shared<spdlog::sinks::null_sink_mt>())) {
    uv_loop_init(&loop_);
    config::ParseContext ctx("ferry.yaml");
    const PluginKind* kind = FindPlugin(name);
    if (kind == nullptr) {
      errors_.push_back("no plugin called " + std::string(name));
      return;
    }
    YAML::Node node = options_yaml.empty() ? YAML::Node() : YAML::Load(std::string(options_yaml));
    kind->Parse(node, "flows[0].plugins[0]." + std::string(name), ctx, spec_);
    errors_ = ctx.errors();
    if (!errors_.empty()) return;
    PluginEnv env{&loop_, clock_, std::move(flow), std::move(hostname), *log_};
    auto made = kind->Make(spec_, env);
    if (!made) {
      errors_.push_back(made.error().message());
      return;
    }
    plugin_ = std::move(*made);
  }
  ~PluginHarness() {
    if (plugin_) {
      bool closed = false;
      plugin_->Close([&closed] { closed = true; });
      while (!closed && uv_run(&loop_, UV_RUN_ONCE) != 0) {
      }
      plugin_.reset();
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  PluginHarness(const PluginHarness&) = delete;
  PluginHarness& operator=(const PluginHarness&) = delete;

  bool ok() const { return plugin_ != nullptr; }
  const std::vector<std::string>& errors() const { return errors_; }
  std::string all_errors() const {
    std::string all;
    for (const auto& e : errors_) all += e + "\n";
    return all;
  }
  const PluginSpec& spec() const { return spec_; }
  Plugin& plugin() { return *plugin_; }
  FixedClock& clock() { return clock_; }
  uv_loop_t* loop() { return &loop_; }

  // One batch of records (each followed by a newline in the file, for their offsets) through the plugin;
  // runs the loop until it has decided on all of them.
  std::vector<PluginOutcome> Run(const std::vector<std::string>& records, const RecordOrigin& origin = {}) {
    REQUIRE(plugin_ != nullptr);
    BatchRef batch(new Batch(1, origin.start_offset, nullptr, 4096, nullptr));
    batch->set_origin(std::make_shared<const std::string>(origin.file));
    batch->set_read_time_ms(origin.read_time_ms);
    batch->set_file_id(origin.file_id);
    std::uint64_t offset = origin.start_offset;
    for (const auto& r : records) {
      offset += r.size() + 1;
      batch->records().push_back({batch->arena().Copy(r), offset});
    }
    batch->set_end_offset(offset);
    bool done = false;
    PluginBatch work(batch, [&done](PluginBatch&) { done = true; });
    plugin_->Process(work);
    while (!done && uv_run(&loop_, UV_RUN_ONCE) != 0) {
    }
    REQUIRE(done);
    std::vector<PluginOutcome> out(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      out[i].verdict = work.verdict(i);
      out[i].text = std::string(work.verdict(i) == Verdict::kReplace ? work.replacement(i) : records[i]);
      out[i].reason = std::string(work.reason(i));
    }
    // Nothing downstream acknowledges in a harness; the batch has no sink to tell.
    return out;
  }

  // The text of one record after the plugin: its replacement or itself; "(dropped)" or "(failed: why)".
  std::string One(const std::string& record, const RecordOrigin& origin = {}) {
    PluginOutcome o = Run({record}, origin)[0];
    if (o.verdict == Verdict::kDrop) return "(dropped)";
    if (o.verdict == Verdict::kFail) return "(failed: " + o.reason + ")";
    return o.text;
  }

 private:
  uv_loop_t loop_{};
  FixedClock clock_;
  std::shared_ptr<spdlog::logger> log_;
  PluginSpec spec_;
  std::unique_ptr<Plugin> plugin_;
  std::vector<std::string> errors_;
};

}  // namespace ferry::plugins
