// plugin_bench: how fast each built-in plugin, and the example chain of DESIGN.md §12, handles 200-byte
// lines on one core. A measurement, not a test: it prints a table and one `JSON: {...}` line.
//
//   build/tests/ferry_plugin_bench [--lines N] [--only NAME,...]
//
// Each case makes its plugins from YAML through the registry (as the config does), runs the lines through
// a PluginChain in batches of 64 KiB (as the tailer hands them over), and measures the process's CPU time
// (CLOCK_PROCESS_CPUTIME_ID) from the first batch to the last. The lines are generated with a fixed seed:
// nginx combined lines for the text cases, AWS WAF-like JSON records for the JSON ones, each padded or cut
// to exactly 200 bytes with its newline; "rare" puts a secret (an email, a card number, an AWS key...) in
// one line of 1,000, "every" in each. The redact cases' lines name their clients by host name, except
// redact-library-ip-lines, where the client address in every line is a secret to the ipv4 pattern.
#include <ctime>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <uv.h>
#include <yaml-cpp/yaml.h>

#include "agent/core/batch.h"
#include "agent/core/batch_sink.h"
#include "agent/core/clock.h"
#include "agent/pipeline/plugin_chain.h"
#include "plugins/builtin_plugins.h"

namespace ferry {
namespace {

constexpr std::size_t kLineBytes = 200;  // with the newline
constexpr std::size_t kBatchBytes = 64 << 10;

const char* const kSecrets[] = {
    "contact jane.doe@example.com",
    "card 4111 1111 1111 1111",
    "key AKIAIOSFODNN7EXAMPLE",
    "auth Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "db postgres://app:hunter2@db.internal/app",
    "ssn 123-45-6789",
};

std::string Fit(std::string line) {
  line.resize(kLineBytes - 1, ' ');
  return line;
}

// nginx combined: the format `parse: { format: apache_combined }` reads. With named_clients the client is
// a host name, not an address: for the redact cases, where an address in every line would be a secret in
// every line for the ipv4 pattern.
std::vector<std::string> TextLines(std::size_t n, std::size_t secret_every, bool named_clients = false) {
  std::mt19937_64 rng(42);
  const char* paths[] = {"/", "/api/v1/orders", "/static/app.js", "/health", "/login", "/api/v1/users/42"};
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool secret = secret_every != 0 && i % secret_every == 0;
    std::string agent = secret ? kSecrets[rng() % std::size(kSecrets)] : "Mozilla/5.0 (X11; Linux x86_64)";
    const std::string client = named_clients
                                   ? fmt::format("client-{}.example.net", rng() % 4096)
                                   : fmt::format("10.{}.{}.{}", rng() % 256, rng() % 256, rng() % 256);
    out.push_back(Fit(fmt::format(
        "{} - - [05/Dec/2026:07:57:{:02d} +0000] \"GET {} HTTP/1.1\" {} {} \"-\" \"{}\" pad", client, i % 60,
        paths[rng() % std::size(paths)], i % 17 == 0 ? 404 : 200, rng() % 100000, agent)));
  }
  return out;
}

// AWS WAF-like JSON: headers to mask, an action to filter on.
std::vector<std::string> JsonLines(std::size_t n) {
  std::mt19937_64 rng(7);
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string line = fmt::format(
        R"({{"timestamp":{},"action":"{}","httpRequest":{{"clientIp":"10.0.{}.{}","uri":"/api/{}","headers":[{{"name":"Host","value":"x"}},{{"name":"Cookie","value":"s={}"}}]}},"p":")",
        1700000000000 + i, i % 4 == 0 ? "BLOCK" : "ALLOW", rng() % 256, rng() % 256, rng() % 1000, rng());
    line.resize(kLineBytes - 3, 'x');
    out.push_back(line + "\"}");
  }
  return out;
}

// Acknowledges what reaches it, as a destination would.
struct AckingSink : BatchSink {
  std::size_t records = 0;
  std::size_t bytes = 0;
  void Accept(BatchRef batch) override {
    for (const auto& r : batch->records()) bytes += r.data.size();
    records += batch->records().size();
    batch->Ack(batch->records().size());
  }
};

struct NoAcks : AckSink {
  void OnBatchDone(SourceId, std::uint64_t, std::uint64_t) override {}
};

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Case {
  std::string name;
  std::string plugins_yaml;  // a `plugins:` list
  bool json;
  std::size_t secret_every;  // 0: no secrets; 1: one in every line; 1000: one line in 1,000
  bool named_clients = false;
};

struct Figures {
  double lines_per_s;
  double mb_per_s;
  std::size_t out;
};

Figures Run(const Case& c, const std::vector<std::string>& lines, uv_loop_t* loop, spdlog::logger& log) {
  SystemClock clock;
  const plugins::PluginEnv env{loop, clock, "bench", "edge-1", log};
  AckingSink sink;
  NoAcks acks;
  PluginChain chain(sink, 1 << 20, nullptr, nullptr);
  YAML::Node list = YAML::Load(c.plugins_yaml);
  for (const auto& item : list) {
    const std::string name = item.IsScalar() ? item.Scalar() : item.begin()->first.Scalar();
    const plugins::PluginKind* kind = plugins::FindPlugin(name);
    if (kind == nullptr) throw std::runtime_error("no plugin " + name);
    config::ParseContext ctx("bench");
    plugins::PluginSpec spec;
    kind->Parse(item.IsScalar() ? YAML::Node() : item.begin()->second, name, ctx, spec);
    if (!ctx.errors().empty()) throw std::runtime_error(ctx.errors().front());
    auto made = kind->Make(spec, env);
    if (!made) throw std::runtime_error(made.error().message());
    chain.Add(PluginStage{name, std::move(*made), spec.on_error});
  }
  // Batches are made before the clock starts: the tailer's read and framing are not the plugins' cost.
  std::vector<BatchRef> batches;
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < lines.size();) {
    BatchRef batch(new Batch(1, offset, &acks, kBatchBytes + 4096, nullptr));
    batch->set_origin(std::make_shared<const std::string>("/var/log/nginx/access.log"));
    batch->set_read_time_ms(1'700'000'000'000);
    batch->set_file_id(0x1234);
    std::size_t bytes = 0;
    for (; i < lines.size() && bytes < kBatchBytes; ++i) {
      offset += lines[i].size() + 1;
      bytes += lines[i].size() + 1;
      batch->records().push_back({batch->arena().Copy(lines[i]), offset});
    }
    batch->set_end_offset(offset);
    batch->Seal();
    batches.push_back(std::move(batch));
  }
  const double start = CpuSeconds();
  for (auto& b : batches) chain.Accept(std::move(b));
  const double cpu = CpuSeconds() - start;
  batches.clear();
  const double mb = static_cast<double>(lines.size() * kLineBytes) / 1e6;
  return Figures{static_cast<double>(lines.size()) / cpu, mb / cpu, sink.records};
}

const std::string kLibrary =
    "[email, ipv4, ipv6, credit_card, aws_access_key_id, aws_secret_access_key, bearer_token, jwt, "
    "url_password, us_ssn, iban, phone_e164]";

std::vector<Case> Cases() {
  return {
      {"grep", R"(- grep: { exclude: 'GET /health' })", false, 0},
      {"redact-library-rare", "- redact: { patterns: " + kLibrary + " }", false, 1000, true},
      {"redact-library-every", "- redact: { patterns: " + kLibrary + " }", false, 1, true},
      {"redact-library-ip-lines", "- redact: { patterns: " + kLibrary + " }", false, 1000},
      {"redact-hash-every", "- redact: { patterns: " + kLibrary + ", replace: { hash: { key_file: KEY } } }",
       false, 1, true},
      {"parse-apache-combined", "- parse: { format: apache_combined }", false, 0},
      {"json-waf-mask", R"(- json: { mask: ['httpRequest.headers[name=="Cookie"].value'] })", true, 0},
      {"add-json",
       "- add: { fields: { hostname: '${hostname}', file: '${file}' }, timestamp: time, record_id: id }",
       true, 0},
      {"singleline", "- singleline", false, 0},
      {"sample", "- sample: { rate: 10 }", false, 0},
      {"throttle", "- throttle: { rate: 100000000 }", false, 0},
      {"chain", R"(- grep: { exclude: 'GET /health' }
- redact: { patterns: [email, credit_card, aws_access_key_id], replace: '[REDACTED]' }
- parse: { format: apache_combined }
- add: { fields: { hostname: '${hostname}', file: '${file}' }, timestamp: time, record_id: id })",
       false, 1000},
  };
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  using namespace ferry;
  std::size_t n = 1'000'000;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--lines") == 0) n = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--only") == 0) only = std::string(",") + argv[i + 1] + ",";
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto log = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  // The hash case's key, in a file of its own as the option wants.
  char key_path[] = "/tmp/ferry-bench-key-XXXXXX";
  const int fd = mkstemp(key_path);
  if (fd < 0 || write(fd, "bench key: 32 bytes of secret..", 32) != 32) return 1;
  close(fd);
  const auto text_rare = TextLines(n, 1000);
  const auto text_plain = TextLines(n, 0);
  const auto named_rare = TextLines(n, 1000, true);
  const auto named_every = TextLines(n, 1, true);
  const auto json = JsonLines(n);
  std::printf("%-24s %14s %10s %12s\n", "case", "lines/s", "MB/s", "records out");
  std::string results;
  for (auto c : Cases()) {
    if (!only.empty() && only.find("," + c.name + ",") == std::string::npos) continue;
    if (auto at = c.plugins_yaml.find("KEY"); at != std::string::npos)
      c.plugins_yaml.replace(at, 3, key_path);
    const auto& lines = c.json            ? json
                        : c.named_clients ? (c.secret_every == 1 ? named_every : named_rare)
                        : c.secret_every  ? text_rare
                                          : text_plain;
    try {
      const Figures f = Run(c, lines, &loop, *log);
      std::printf("%-24s %14.0f %10.1f %12zu\n", c.name.c_str(), f.lines_per_s, f.mb_per_s, f.out);
      results += fmt::format("{}\"{}\":{{\"lines_per_s\":{:.0f},\"mb_per_s\":{:.1f}}}",
                             results.empty() ? "" : ",", c.name, f.lines_per_s, f.mb_per_s);
    } catch (const std::exception& e) {
      std::printf("%-24s %s\n", c.name.c_str(), e.what());
    }
  }
  std::printf("JSON: {\"lines\":%zu,\"line_bytes\":%zu,%s}\n", n, kLineBytes, results.c_str());
  unlink(key_path);
  uv_loop_close(&loop);
  return 0;
}
