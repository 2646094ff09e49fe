// Tests of the lambda plugin (plugins/lambda) against real processes: python3 scripts speaking the raw
// protocol (tests/unit/lambda_scripts/transform.py, one behaviour per mode). Each checks every record's
// verdict and the plugin's counters exactly:
// - pass-through, uppercase (the function's trailing newline taken off), drop every other record,
//   ProcessingFailed for some (error code processing-failed), ids left out, unknown and repeated ids,
//   invalid base64, results that are not Ok/Dropped/ProcessingFailed;
// - batches cut into invocations by batch_records and batch_bytes (a record bigger than batch_bytes alone);
// - answers that fail the invocation (not JSON, Lambda's error shape) retried, then failed with the last
//   failure; a crash on the Nth invocation (restarted, retried, nothing lost); a hang (killed at the
//   timeout, restarted, retried, then failed; or answered on the retry); a process that exits at once
//   (restarted with backoff, records failed once retries are spent); a stray line (restarted);
// - instances side by side; the process's environment and the event's fixed fields; its stderr in ferry's
//   log; an answer past the line cap; Close() stopping a hung process; `ferry check` and start-up refusing
//   a program that is not there or cannot run;
// - a slow function: batches wait in the chain, charged to the flow's memory budget, so a source that
//   reads only while the budget has room pauses instead of memory growing.
// Backoffs and timeouts are short (tens of ms); the whole file runs in a few seconds.
#include "plugins/lambda/lambda_plugin.h"

#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>

#include "agent/config/config.h"
#include "agent/pipeline/flow_builder.h"
#include "agent/pipeline/plugin_chain.h"
#include "plugins/lambda/lambda_options.h"
#include "tests/unit/plugin_harness.h"
#include "tests/unit/scratch_dir.h"

namespace ferry::plugins {
namespace {

const std::string kScript = std::string(FERRY_LAMBDA_SCRIPTS) + "/transform.py";
// Starts at once: for the tests whose timeouts are shorter than python3's start on a loaded machine.
const std::string kSed = std::string(FERRY_LAMBDA_SCRIPTS) + "/sed_passthrough.sh";

// The distribution's python3 when there is one: a version manager's shim in PATH may take longer to start
// than the script runs.
std::string Python() {
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

// The command running transform.py in mode (and its arguments), as a YAML flow list.
std::string Command(const std::string& mode) {
  return "[" + Python() + ", " + kScript + ", " + mode + "]";
}

// One lambda plugin made from the YAML of its entry, as the config makes it, with short backoffs, started
// on a loop of its own.
class LambdaRig {
 public:
  explicit LambdaRig(const std::string& options_yaml, std::string flow = "web")
      : clock_(1'700'000'000),
        log_(std::make_shared<spdlog::logger>("lambda-test",
                                              std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_))),
        environment_(Environment::FromProcess()) {
    uv_loop_init(&loop_);
    const PluginKind* kind = FindPlugin("lambda");
    REQUIRE(kind != nullptr);
    config::ParseContext ctx("ferry.yaml");
    PluginSpec spec;
    kind->Parse(YAML::Load(options_yaml), "flows[0].plugins[0].lambda", ctx, spec);
    REQUIRE(ctx.errors().empty());
    PluginEnv env{&loop_, clock_, std::move(flow), "edge-1", *log_};
    env.destination = FlowDestination{FlowDestination::Kind::kFirehose, "web-stream", "eu-west-1", ""};
    env.environment = &environment_;
    auto settings = LambdaSettingsFor(*static_cast<const LambdaOptions*>(spec.options.get()), env, 42);
    REQUIRE(settings.ok());
    settings->instance.backoff_min = std::chrono::milliseconds(10);
    settings->instance.backoff_max = std::chrono::milliseconds(40);
    settings->instance.stop_grace = std::chrono::milliseconds(200);
    if (options_yaml.find("start_timeout") == std::string::npos) settings->instance.start_allowance = {};
    plugin_ = MakeLambdaPlugin(&loop_, *log_, std::move(*settings));
    Status started = plugin_->Start();
    REQUIRE(started.ok());
  }
  ~LambdaRig() {
    if (plugin_) Close();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  // Closes the plugin; returns how long that took.
  std::chrono::milliseconds Close() {
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    plugin_->Close([&closed] { closed = true; });
    while (!closed && uv_run(&loop_, UV_RUN_ONCE) != 0) {
    }
    REQUIRE(closed);
    counters_ = Counters();
    plugin_.reset();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }

  // Runs the loop until pred holds or timeout passes; returns pred().
  bool RunUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 5, 5);
    while (!pred() && std::chrono::steady_clock::now() < end) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return pred();
  }

  std::vector<PluginOutcome> Run(const std::vector<std::string>& records) {
    BatchRef batch = MakeBatch(records);
    PluginBatch work(batch, [](PluginBatch&) {});
    plugin_->Process(work);
    while (!work.done() && uv_run(&loop_, UV_RUN_ONCE) != 0) {
    }
    REQUIRE(work.done());
    std::vector<PluginOutcome> out(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      out[i].verdict = work.verdict(i);
      out[i].text = std::string(work.verdict(i) == Verdict::kReplace ? work.replacement(i) : records[i]);
      out[i].reason = std::string(work.reason(i));
      if (work.verdict(i) == Verdict::kFail) CHECK(work.code(i) == "processing-failed");
    }
    return out;
  }

  BatchRef MakeBatch(const std::vector<std::string>& records, MemoryBudget* budget = nullptr,
                     std::size_t block = 4096) {
    BatchRef batch(new Batch(1, 0, nullptr, block, budget));
    batch->set_read_time_ms(1'700'000'000'123);
    std::uint64_t offset = 0;
    for (const auto& r : records) {
      offset += r.size() + 1;
      batch->records().push_back({batch->arena().Copy(r), offset});
    }
    batch->set_end_offset(offset);
    return batch;
  }

  std::map<std::string, std::uint64_t> Counters() const {
    if (!plugin_) return counters_;
    std::map<std::string, std::uint64_t> c;
    plugin_->VisitCounters(
        [&c](std::string_view name, std::uint64_t value) { c[std::string(name)] = value; });
    return c;
  }
  std::uint64_t Counter(const std::string& name) const { return Counters().at(name); }

  Plugin& plugin() { return *plugin_; }
  // The plugin, for a chain to own (the chain then closes it).
  std::unique_ptr<Plugin> TakePlugin() { return std::move(plugin_); }
  uv_loop_t* loop() { return &loop_; }
  std::string log() const { return log_text_.str(); }

 private:
  uv_loop_t loop_{};
  FixedClock clock_;
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::logger> log_;
  Environment environment_;
  std::unique_ptr<Plugin> plugin_;
  std::map<std::string, std::uint64_t> counters_;  // after Close
};

std::vector<std::string> Lines(std::size_t n, const std::string& stem = "line") {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(stem + " " + std::to_string(i));
  return out;
}

std::vector<Verdict> Verdicts(const std::vector<PluginOutcome>& out) {
  std::vector<Verdict> v;
  for (const auto& o : out) v.push_back(o.verdict);
  return v;
}

std::vector<std::string> Texts(const std::vector<PluginOutcome>& out) {
  std::vector<std::string> v;
  for (const auto& o : out) v.push_back(o.text);
  return v;
}

constexpr Verdict R = Verdict::kReplace;
constexpr Verdict D = Verdict::kDrop;
constexpr Verdict F = Verdict::kFail;

TEST_CASE("lambda passes records through a function unchanged, its stderr in the log", "[lambda]") {
  LambdaRig rig("{ command: " + Command("passthrough") + " }");
  const auto records = Lines(5);
  auto out = rig.Run(records);
  CHECK(Verdicts(out) == std::vector<Verdict>(5, R));
  CHECK(Texts(out) == records);
  CHECK(rig.Counter("invocations") == 1);
  CHECK(rig.Counter("instances_running") == 1);
  CHECK(rig.Counter("retries") == 0);
  CHECK(rig.Counter("restarts") == 0);
  // Records that are not text go through byte for byte (but for one trailing newline, which the function
  // of a Firehose pipeline adds and ferry takes off).
  const std::string binary("\x00\xff\x80 \"\\\n\r", 8);
  CHECK(Texts(rig.Run({binary, "", "two\n\n"})) == std::vector<std::string>{binary, "", "two\n"});
  rig.Close();
  CHECK(std::regex_search(rig.log(), std::regex(R"(flow web: lambda\[\d+\]: started passthrough)")));
}

TEST_CASE("lambda gives each record the function's verdict", "[lambda]") {
  SECTION("uppercase, the function's newline taken off") {
    LambdaRig rig("{ command: " + Command("upper") + " }");
    CHECK(Texts(rig.Run({"abc", "Mixed Case"})) == std::vector<std::string>{"ABC", "MIXED CASE"});
  }
  SECTION("Dropped") {
    LambdaRig rig("{ command: " + Command("drop_odd") + " }");
    CHECK(Verdicts(rig.Run(Lines(5))) == std::vector<Verdict>{R, D, R, D, R});
    CHECK(rig.Counter("processing_failed") == 0);
  }
  SECTION("ProcessingFailed, with the function's message") {
    LambdaRig rig("{ command: " + Command("fail_some") + " }");
    auto out = rig.Run({"good", "bad one", "good", "also bad"});
    CHECK(Verdicts(out) == std::vector<Verdict>{R, F, R, F});
    CHECK(out[1].reason ==
          "Lambda.ProcessingFailedStatus: the function returned ProcessingFailed: bad record");
    CHECK(rig.Counter("processing_failed") == 2);
  }
  SECTION("ids left out of the answer") {
    LambdaRig rig("{ command: " + Command("omit") + " }");
    auto out = rig.Run(Lines(7));
    CHECK(Verdicts(out) == std::vector<Verdict>{R, R, F, R, R, F, R});
    CHECK(out[2].reason == "Lambda.MissingRecordId: the answer has no record 2");
    CHECK(rig.Counter("processing_failed") == 2);
  }
  SECTION("unknown and repeated ids") {
    LambdaRig rig("{ command: " + Command("unknown_repeated") + " }");
    auto out = rig.Run(Lines(3));
    CHECK(Verdicts(out) == std::vector<Verdict>{R, R, R});
    CHECK(Texts(out) == Lines(3));
    CHECK(rig.Counter("unknown_ids") == 1);
    CHECK(rig.Counter("repeated_ids") == 1);
  }
  SECTION("data that is not base64") {
    LambdaRig rig("{ command: " + Command("bad_base64") + " }");
    auto out = rig.Run(Lines(3));
    CHECK(Verdicts(out) == std::vector<Verdict>{F, R, R});
    CHECK(out[0].reason == "Lambda.InvalidOutput: data is not base64");
  }
  SECTION("a result that is none of the three") {
    LambdaRig rig("{ command: " + Command("odd_results") + " }");
    auto out = rig.Run(Lines(3));
    CHECK(Verdicts(out) == std::vector<Verdict>{R, F, D});
    CHECK(out[1].reason == "Lambda.InvalidOutput: result 'Maybe'");
  }
}

TEST_CASE("lambda cuts batches into invocations by batch_records and batch_bytes", "[lambda]") {
  SECTION("batch_records") {
    LambdaRig rig("{ command: " + Command("upper") + ", batch_records: 2 }");
    auto out = rig.Run(Lines(5));
    CHECK(Texts(out) == Lines(5, "LINE"));
    CHECK(rig.Counter("invocations") == 3);
  }
  SECTION("batch_bytes, and a record bigger than that alone") {
    // An event with no records is about 150 bytes; each 200-byte record adds about 340: 1 KiB takes two.
    LambdaRig rig("{ command: " + Command("passthrough") + ", batch_bytes: 1KiB }");
    std::vector<std::string> records(5, std::string(200, 'a'));
    records[2] = std::string(5000, 'b');
    auto out = rig.Run(records);
    CHECK(Texts(out) == records);
    CHECK(rig.Counter("invocations") == 3);  // {0, 1}, {2}, {3, 4}
  }
}

TEST_CASE("lambda retries an invocation the function failed, then fails its records", "[lambda]") {
  SECTION("an answer that is not JSON") {
    LambdaRig rig("{ command: " + Command("not_json") + ", retries: 2 }");
    auto out = rig.Run(Lines(2));
    CHECK(Verdicts(out) == std::vector<Verdict>{F, F});
    CHECK_THAT(out[0].reason, Catch::StartsWith("Lambda.InvalidResponse: the answer is not JSON ("));
    CHECK_THAT(out[0].reason, Catch::EndsWith(" (3 attempts)"));
    CHECK(rig.Counter("invocations") == 3);
    CHECK(rig.Counter("retries") == 2);
    CHECK(rig.Counter("processing_failed") == 2);
    CHECK(rig.Counter("restarts") == 0);  // the process answered: it is not restarted
  }
  SECTION("the handler threw (Lambda's error shape)") {
    LambdaRig rig("{ command: " + Command("error_shape") + ", retries: 0 }");
    auto out = rig.Run(Lines(1));
    CHECK(out[0].reason == "Lambda.FunctionError: ValueError: boom (1 attempt)");
    CHECK(rig.Counter("invocations") == 1);
  }
}

TEST_CASE("lambda logs a function that fails every invocation once a minute, with a count", "[lambda]") {
  LambdaRig rig("{ command: " + Command("not_json") + ", batch_records: 1, retries: 1 }");
  auto out = rig.Run(Lines(4));
  CHECK(Verdicts(out) == std::vector<Verdict>{F, F, F, F});
  CHECK(rig.Counter("invocations") == 8);
  const std::string log = rig.log();
  auto count = [&log](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  INFO(log);
  CHECK(count("trying again") == 1);          // four retries, one line
  CHECK(count("records failed after") == 1);  // four records given up, one line
}

TEST_CASE("lambda kills a function whose answer passes the cap", "[lambda]") {
  // batch_bytes 1KiB: the cap is its floor, 1 MiB; the function answers 2 MiB.
  LambdaRig rig("{ command: " + Command("huge") + ", batch_bytes: 1KiB, retries: 0 }");
  auto out = rig.Run(Lines(1));
  CHECK(out[0].verdict == F);
  CHECK(out[0].reason == "Lambda.InvalidResponse: answered more than 1048576 bytes in one line (1 attempt)");
  CHECK(rig.Counter("invocations") == 1);
}

TEST_CASE("lambda restarts a process that crashed and retries its invocation: nothing lost", "[lambda]") {
  // Each process crashes on its second invocation: 3 invocations take 5 attempts and 2 restarts.
  LambdaRig rig("{ command: [" + Python() + ", " + kScript + ", crash_nth, '2'], batch_records: 2 }");
  auto out = rig.Run(Lines(6));
  CHECK(Verdicts(out) == std::vector<Verdict>(6, R));
  CHECK(Texts(out) == Lines(6));
  CHECK(rig.Counter("invocations") == 5);
  CHECK(rig.Counter("retries") == 2);
  CHECK(rig.Counter("restarts") == 2);
  CHECK(rig.Counter("processing_failed") == 0);
  CHECK(rig.Counter("instances_running") == 1);
  CHECK_THAT(rig.log(), Catch::Contains("ended during an invocation (exit status 3)"));
}

TEST_CASE("lambda gives a process's first invocation start_timeout more, for its start", "[lambda]") {
  SECTION("a slow start within it is answered") {
    LambdaRig rig("{ command: [" + kSed + ", slow_start], timeout: 200ms, start_timeout: 2s, retries: 0 }");
    CHECK(Texts(rig.Run(Lines(2))) == Lines(2));
    CHECK(rig.Counter("timeouts") == 0);
  }
  SECTION("without it, the same start times out") {
    LambdaRig rig("{ command: [" + kSed + ", slow_start], timeout: 200ms, start_timeout: 0s, retries: 0 }");
    auto out = rig.Run(Lines(2));
    CHECK(Verdicts(out) == std::vector<Verdict>(2, F));
    CHECK(rig.Counter("timeouts") == 1);
  }
  SECTION("a hang is timed out after both, and the reason says so") {
    LambdaRig rig("{ command: [" + kSed + ", hang], timeout: 200ms, start_timeout: 300ms, retries: 0 }");
    const auto start = std::chrono::steady_clock::now();
    auto out = rig.Run(Lines(1));
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(480));
    CHECK(out[0].reason == "Lambda.Timeout: no answer within 200ms (and 300ms to start) (1 attempt)");
  }
}

TEST_CASE("lambda kills a function that hangs, restarts it and retries", "[lambda]") {
  SECTION("it hangs every time: failed after the retries") {
    LambdaRig rig("{ command: [" + kSed + ", hang], timeout: 200ms, retries: 1 }");
    const auto start = std::chrono::steady_clock::now();
    auto out = rig.Run(Lines(3));
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(Verdicts(out) == std::vector<Verdict>(3, F));
    CHECK(out[0].reason == "Lambda.Timeout: no answer within 200ms (2 attempts)");
    CHECK(rig.Counter("timeouts") == 2);
    CHECK(rig.Counter("invocations") == 2);
    CHECK(rig.Counter("processing_failed") == 3);
    CHECK(took >= std::chrono::milliseconds(380));  // two timeouts (the loop clock is coarse)
    CHECK(took < std::chrono::seconds(3));
  }
  SECTION("it hangs once: answered on the retry") {
    const testing::ScratchDir dir;
    LambdaRig rig("{ command: [" + kSed + ", hang_once], timeout: 200ms, environment: " +
                  "{ FERRY_TEST_COUNTER: " + (dir / "count") + " } }");
    auto out = rig.Run(Lines(3));
    CHECK(Verdicts(out) == std::vector<Verdict>(3, R));
    CHECK(Texts(out) == Lines(3));
    CHECK(rig.Counter("timeouts") == 1);
    CHECK(rig.Counter("retries") == 1);
    CHECK(rig.Counter("restarts") == 1);
    // The backoff went back to its start after the answer: a second batch is answered at once.
    CHECK(Texts(rig.Run(Lines(2))) == Lines(2));
  }
}

TEST_CASE("lambda fails the records of a function that exits at once, with backoff", "[lambda]") {
  LambdaRig rig("{ command: " + Command("exit_now") + ", retries: 2 }");
  auto out = rig.Run(Lines(3));
  CHECK(Verdicts(out) == std::vector<Verdict>(3, F));
  CHECK_THAT(out[0].reason, Catch::StartsWith("Lambda.FunctionError: "));
  CHECK_THAT(out[0].reason, Catch::EndsWith(" (3 attempts)"));
  CHECK(rig.Counter("processing_failed") == 3);
  CHECK(rig.Counter("retries") == 2);
  CHECK_THAT(rig.log(), Catch::Contains("exit status 1"));
  CHECK_THAT(rig.log(), Catch::Contains("restarting it in 10ms"));
  CHECK_THAT(rig.log(), Catch::Contains("restarting it in 20ms"));
}

TEST_CASE("lambda restarts a function that writes a line nobody asked for", "[lambda]") {
  LambdaRig rig("{ command: " + Command("stray") + " }");
  CHECK(Texts(rig.Run(Lines(2))) == Lines(2));
  // The extra line may reach ferry after the answer, in a read of its own: wait for it, or the next
  // request would be under way when it comes, and it would be taken for that request's answer.
  REQUIRE(rig.RunUntil([&] { return rig.Counter("restarts") == 1; }, std::chrono::seconds(5)));
  CHECK(Verdicts(rig.Run(Lines(3))) == std::vector<Verdict>(3, R));
  INFO(rig.log());
  CHECK(rig.Counter("restarts") == 1);
  CHECK_THAT(rig.log(), Catch::Contains("wrote a line with no request under way"));
}

TEST_CASE("lambda gives the process its environment and the event its fixed fields", "[lambda]") {
  LambdaRig rig("{ command: " + Command("env") + ", timeout: 45s, environment: { EXTRA: 'x=1' } }");
  auto out = rig.Run({"a"});
  REQUIRE(out[0].verdict == R);
  rapidjson::Document doc;
  doc.Parse(out[0].text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["env"]["AWS_LAMBDA_FUNCTION_NAME"].GetString()) == "web-transform");
  CHECK(std::string(doc["env"]["AWS_REGION"].GetString()) == "eu-west-1");
  CHECK(std::string(doc["env"]["FERRY_LAMBDA_TIMEOUT_MS"].GetString()) == "45000");
  CHECK(std::string(doc["env"]["EXTRA"].GetString()) == "x=1");
  CHECK(std::string(doc["event"]["deliveryStreamArn"].GetString()) ==
        "arn:aws:firehose:eu-west-1:000000000000:deliverystream/web-stream");
  CHECK(std::string(doc["event"]["region"].GetString()) == "eu-west-1");
  CHECK(std::string(doc["event"]["invocationId"].GetString()).size() == 36);
}

TEST_CASE("lambda runs instances side by side", "[lambda]") {
  LambdaRig rig("{ command: " + Command("env") + ", instances: 2, batch_records: 1 }");
  CHECK(rig.plugin().max_in_flight() == 2);
  CHECK(rig.Counter("instances_running") == 2);
  auto out = rig.Run(Lines(4));
  std::set<std::int64_t> pids;
  for (const auto& o : out) {
    REQUIRE(o.verdict == R);
    rapidjson::Document doc;
    doc.Parse(o.text.c_str());
    REQUIRE(doc.IsObject());
    pids.insert(doc["pid"].GetInt64());
  }
  CHECK(pids.size() == 2);  // the first two invocations went out at once, one to each process
  CHECK(rig.Counter("invocations") == 4);
}

TEST_CASE("lambda's Close stops a process that hangs and abandons its batch", "[lambda]") {
  LambdaRig rig("{ command: [" + kSed + ", hang], timeout: 60s }");
  BatchRef batch = rig.MakeBatch(Lines(2));
  PluginBatch work(batch, [](PluginBatch&) {});
  rig.plugin().Process(work);
  // Long enough for the process to be reading its request.
  bool waited = false;
  uv_timer_t wait;
  uv_timer_init(rig.loop(), &wait);
  wait.data = &waited;
  uv_timer_start(
      &wait,
      [](uv_timer_t* t) {
        *static_cast<bool*>(t->data) = true;
        uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
      },
      300, 0);
  while (!waited) uv_run(rig.loop(), UV_RUN_ONCE);
  CHECK(rig.Counter("instances_running") == 1);
  const auto took = rig.Close();
  CHECK_FALSE(work.done());  // its records stay unacknowledged
  CHECK(took < std::chrono::seconds(2));
  CHECK(rig.Counter("instances_running") == 0);
}

TEST_CASE("lambda refuses a program that is not there or cannot run, at check and at start", "[lambda]") {
  const testing::ScratchDir dir;
  const std::string not_executable = dir / "transform.sh";
  std::ofstream(not_executable) << "#!/bin/sh\n";
  auto check = [](const std::string& command) {
    auto config = config::ParseConfig(
        "flows:\n  - name: web\n    files: [/var/log/web.log]\n    plugins:\n      - grep: { exclude: x }\n"
        "      - lambda: { command: " +
            command + " }\n    firehose: { delivery_stream: s }\n",
        "ferry.yaml");
    REQUIRE(config.ok());
    SystemClock clock;
    auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
    const std::string host = "h";
    const Environment env = Environment::FromProcess();
    auto stages = MakePluginStages(config->flows[0], PluginContext{nullptr, clock, host, *log, &env});
    REQUIRE_FALSE(stages.ok());
    return stages.error().message();
  };
  CHECK_THAT(check("[no-such-program-ferry, x]"),
             Catch::Matches("ferry\\.yaml:6:\\d+: flows\\[0\\]\\.plugins\\[1\\]\\.lambda: command: program "
                            "'no-such-program-ferry' not found in PATH \\(.*\\)"));
  CHECK_THAT(check("[" + not_executable + "]"),
             Catch::EndsWith("command: " + not_executable + ": not executable (Permission denied (EACCES))"));
  CHECK_THAT(check("[" + dir.path() + "]"), Catch::EndsWith(": is a directory"));

  // A program gone between check and start: Start() says so.
  const std::string script = dir / "gone.py";
  std::filesystem::copy_file(kScript, script);
  const PluginKind* kind = FindPlugin("lambda");
  config::ParseContext ctx("ferry.yaml");
  PluginSpec spec;
  kind->Parse(YAML::Load("{ command: [" + script + ", passthrough] }"), "p", ctx, spec);
  REQUIRE(ctx.errors().empty());
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    FixedClock clock(0);
    auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
    const Environment env = Environment::FromProcess();
    PluginEnv penv{&loop, clock, "web", "h", *log};
    penv.environment = &env;
    auto made = kind->Make(spec, penv);
    REQUIRE(made.ok());
    std::filesystem::remove(script);
    Status started = (*made)->Start();
    REQUIRE_FALSE(started.ok());
    CHECK_THAT(started.error().message(), Catch::Contains("cannot start " + script));
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("lambda: batches waiting on a slow function count against the flow's memory budget", "[lambda]") {
  // A source that reads a batch every 2 ms while the budget has room; the function takes 30 ms per batch.
  LambdaRig rig("{ command: [" + Python() + ", " + kScript + ", slow, '30'] }");
  constexpr std::size_t kBlock = 16 << 10;
  MemoryBudget budget(3 * kBlock);
  struct Output : BatchSink {
    std::vector<std::string> texts;
    void Accept(BatchRef batch) override {
      for (const auto& r : batch->records()) texts.emplace_back(r.data);
    }  // and lets go of it: a fast destination
  } output;
  PluginChain chain(output, 1 << 20, nullptr, &budget);
  chain.Add(PluginStage{"lambda", rig.TakePlugin(), OnError::kPass});

  struct Reader {
    LambdaRig* rig;
    PluginChain* chain;
    MemoryBudget* budget;
    std::size_t read = 0;
    std::size_t refused = 0;
    std::size_t peak_used = 0;
    std::size_t peak_held = 0;
    bool finished = false;
    std::vector<std::string> expected = {};
  } reader{&rig, &chain, &budget};
  uv_timer_t tick;
  uv_timer_init(rig.loop(), &tick);
  tick.data = &reader;
  uv_timer_start(
      &tick,
      [](uv_timer_t* t) {
        auto* r = static_cast<Reader*>(t->data);
        r->peak_used = std::max(r->peak_used, r->budget->used());
        r->peak_held = std::max(r->peak_held, r->chain->in_flight());
        if (r->read == 10) {
          if (r->chain->in_flight() == 0) {
            r->finished = true;
            uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
          }
          return;
        }
        if (!r->budget->Fits(kBlock)) {
          ++r->refused;
          return;
        }
        auto lines = Lines(40, "batch " + std::to_string(r->read));
        for (const auto& l : Lines(40, "BATCH " + std::to_string(r->read))) r->expected.push_back(l);
        r->chain->Accept(r->rig->MakeBatch(lines, r->budget, kBlock));
        ++r->read;
      },
      2, 2);
  while (!reader.finished) uv_run(rig.loop(), UV_RUN_ONCE);
  bool closed = false;
  chain.Close([&closed] { closed = true; });
  while (!closed && uv_run(rig.loop(), UV_RUN_ONCE) != 0) {
  }
  CHECK(closed);
  CHECK(output.texts == reader.expected);
  CHECK(reader.refused > 0);              // reading paused
  CHECK(reader.peak_used <= 3 * kBlock);  // and memory stayed within the budget
  CHECK(reader.peak_held == 3);           // one batch at the function, two waiting in the chain
  CHECK(budget.used() == 0);
}

}  // namespace
}  // namespace ferry::plugins
