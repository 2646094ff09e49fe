// Tests of FlowSet (agent/pipeline/flow_set.h) with real flows: two flows tail files into Firehose outputs
// that send, through one shared HTTP client, to a local endpoint. One flow is replaced by a new one of the
// same name and other options while its request hangs: the hung request is cancelled (the client keeps
// serving the other flow, which goes on delivering throughout), the replacement resumes from the
// checkpoints the old flow wrote, and every line is delivered; a flow can also be removed.
#include "agent/pipeline/flow_set.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/null_sink.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/aws/credential_source.h"
#include "agent/aws/endpoint.h"
#include "agent/core/clock.h"
#include "agent/pipeline/flow_builder.h"
#include "tests/unit/local_http_server.h"
#include "tests/unit/scratch_dir.h"

namespace ferry {
namespace {

using testing::LocalHttpServer;
using testing::ServerRequest;

std::string Base64Decode(std::string_view in) {
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  REQUIRE(n >= 0);
  std::size_t pad = in.ends_with("==") ? 2 : in.ends_with("=") ? 1 : 0;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

// A PutRecordBatch endpoint: stores the lines of every record by delivery stream, or never answers the
// streams in `hang`.
struct Endpoint {
  std::map<std::string, std::multiset<std::string>> lines;
  std::set<std::string> hang;
  std::map<std::string, int> hung;

  std::optional<LocalHttpServer::Reply> Answer(const ServerRequest& req) {
    rapidjson::Document doc;
    doc.Parse(req.body.data(), req.body.size());
    REQUIRE(doc.IsObject());
    const std::string stream = doc["DeliveryStreamName"].GetString();
    if (hang.contains(stream)) {
      ++hung[stream];
      return std::nullopt;
    }
    const auto& records = doc["Records"].GetArray();
    std::string answer = R"({"FailedPutCount":0,"Encrypted":false,"RequestResponses":[)";
    for (rapidjson::SizeType i = 0; i < records.Size(); ++i) {
      std::string data = Base64Decode(records[i]["Data"].GetString());
      std::size_t from = 0;
      while (from < data.size()) {
        std::size_t nl = data.find('\n', from);
        if (nl == std::string::npos) nl = data.size();
        lines[stream].insert(data.substr(from, nl - from));
        from = nl + 1;
      }
      answer += (i == 0 ? "" : ",") + std::string(R"({"RecordId":"r)") + std::to_string(i) + "\"}";
    }
    answer += "]}";
    return LocalHttpServer::Reply{testing::BuildResponse(200, "OK", {}, answer)};
  }
};

void Append(const std::string& path, const std::string& prefix, int from, int to) {
  std::ofstream out(path, std::ios::app);
  for (int i = from; i < to; ++i) out << prefix << ' ' << i << '\n';
}

bool HasAll(const std::multiset<std::string>& got, const std::string& prefix, int from, int to) {
  for (int i = from; i < to; ++i) {
    if (!got.contains(prefix + " " + std::to_string(i))) return false;
  }
  return true;
}

class Daemonette {
 public:
  explicit Daemonette(const testing::ScratchDir& dir)
      : log_("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
        clock_(system_),
        total_(8 << 20),
        credentials_(aws::Credentials{"AKIDTEST", "secret", ""}) {
    testing::EnsureCurlGlobalInit();
    REQUIRE(uv_loop_init(&loop_) == 0);
    server_ =
        std::make_unique<LocalHttpServer>(&loop_, [this](const ServerRequest& r) { return ep.Answer(r); });
    REQUIRE(server_->start_error() == 0);
    http_ = std::make_unique<net::HttpClient>(&loop_, net::HttpClientOptions{});
    config.state_dir = dir / "state";
    config.checkpoint_interval = Duration(100);
    for (const char* name : {"a", "b"}) {
      config::FlowOptions flow;
      flow.name = name;
      flow.files = {dir / (std::string(name) + ".log")};
      flow.start_at = StartAt::kBeginning;
      flow.scan_interval = Duration(200);
      firehose::DeliveryOptions firehose;
      firehose.delivery_stream = name;
      firehose.max_age = Duration(40);
      flow.firehose = firehose;
      config.flows.push_back(flow);
      std::ofstream(flow.files[0]);  // empty, so it is there at the first scan
    }
    endpoint_ =
        *aws::ResolveEndpoint("firehose", "us-east-1", "http://127.0.0.1:" + std::to_string(server_->port()));
  }
  ~Daemonette() { uv_loop_close(&loop_); }

  Result<std::unique_ptr<Flow>> Make(const config::FlowOptions& options) {
    BuildContext build{&loop_, config, "host", log_, clock_, &total_};
    auto parts = BuildFileFlow(options, build, 4 << 20);
    if (!parts) return parts.error();
    return std::make_unique<Flow>(FlowContext{&loop_, log_, *http_, acks_, clock_}, std::move(*parts),
                                  endpoint_, credentials_);
  }

  // Runs the loop until pred holds; false after limit_ms.
  bool RunUntil(const std::function<bool()>& pred, std::uint64_t limit_ms = 15000) {
    const std::uint64_t until = uv_now(&loop_) + limit_ms;
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 10, 10);  // wakes the loop to look at pred
    bool ok = true;
    while (!pred()) {
      if (uv_now(&loop_) > until) {
        ok = false;
        break;
      }
      uv_run(&loop_, UV_RUN_ONCE);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return ok;
  }

  void Shutdown() {
    bool drained = false;
    flows.DrainAll(Duration(500), [&](std::size_t) { drained = true; });
    REQUIRE(RunUntil([&] { return drained; }));
    bool closed = false;
    flows.CloseAll([&] { closed = true; });
    REQUIRE(RunUntil([&] { return closed; }));
    http_->Close([this] { server_->Close(); });
    uv_run(&loop_, UV_RUN_DEFAULT);
    http_.reset();
    server_.reset();
  }

  config::Config config;
  FlowSet flows;
  Endpoint ep;

 private:
  uv_loop_t loop_{};
  spdlog::logger log_;
  SystemClock system_;
  CorrectedClock clock_;
  MemoryBudget total_;
  AckTracker acks_;
  aws::FixedCredentials credentials_;
  std::unique_ptr<LocalHttpServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  aws::ServiceEndpoint endpoint_;
};

TEST_CASE("FlowSet replaces a flow while the others run, cancelling its hung requests", "[flow_set]") {
  testing::ScratchDir dir;
  Daemonette d(dir);
  for (const auto& options : d.config.flows) {
    auto flow = d.Make(options);
    REQUIRE(flow.ok());
    d.flows.Add(std::move(*flow));
  }
  REQUIRE(d.flows.size() == 2);
  d.flows.StartAll();
  const std::string a = dir / "a.log", b = dir / "b.log";
  Append(a, "a", 0, 100);
  Append(b, "b", 0, 100);
  REQUIRE(d.RunUntil(
      [&] { return HasAll(d.ep.lines["a"], "a", 0, 100) && HasAll(d.ep.lines["b"], "b", 0, 100); }));

  // Flow a's endpoint stops answering; its next request hangs in the shared client.
  d.ep.hang.insert("a");
  Append(a, "a", 100, 150);
  REQUIRE(d.RunUntil([&] { return d.ep.hung["a"] > 0; }));

  config::FlowOptions changed = d.config.flows[0];
  changed.firehose->max_age = Duration(60);  // new options for the same flow
  bool replaced = false;
  std::optional<Result<std::size_t>> outcome;
  d.flows.Replace(
      "a", [&] { return d.Make(changed); }, Duration(200),
      [&](Result<std::size_t> r) {
        outcome = std::move(r);
        replaced = true;
      });
  // Flow b delivers while a is replaced.
  Append(b, "b", 100, 200);
  REQUIRE(d.RunUntil([&] { return replaced && HasAll(d.ep.lines["b"], "b", 100, 200); }));
  REQUIRE(outcome->ok());
  REQUIRE(d.flows.Find("a") != nullptr);

  // The replacement resumes from the old flow's checkpoint: the lines of the cancelled request come again.
  d.ep.hang.clear();
  Append(a, "a", 150, 160);
  Append(b, "b", 200, 210);
  REQUIRE(d.RunUntil(
      [&] { return HasAll(d.ep.lines["a"], "a", 0, 160) && HasAll(d.ep.lines["b"], "b", 0, 210); }));
  CHECK(d.ep.lines["a"].count("a 0") == 1);  // nothing before the checkpoint is sent again
  // A new flow: it read only what followed the old one's checkpoint.
  std::uint64_t read = 0;
  for (const auto& [name, value] : d.flows.Find("a")->Counters()) {
    if (name == "records_read") read = value;
  }
  CHECK(read == 60);
  d.Shutdown();
}

TEST_CASE("FlowSet removes a flow and adds a new one by name", "[flow_set]") {
  testing::ScratchDir dir;
  Daemonette d(dir);
  auto first = d.Make(d.config.flows[1]);
  REQUIRE(first.ok());
  d.flows.Add(std::move(*first));
  d.flows.StartAll();
  bool removed = false;
  d.flows.Replace("b", nullptr, Duration(200), [&](Result<std::size_t> r) {
    CHECK(r.ok());
    removed = true;
  });
  REQUIRE(d.RunUntil([&] { return removed; }));
  CHECK(d.flows.size() == 0);
  bool added = false;
  d.flows.Replace(
      "a", [&] { return d.Make(d.config.flows[0]); }, Duration(200),
      [&](Result<std::size_t>) { added = true; });
  REQUIRE(added);
  REQUIRE(d.flows.Find("a") != nullptr);
  Append(dir / "a.log", "a", 0, 10);
  REQUIRE(d.RunUntil([&] { return HasAll(d.ep.lines["a"], "a", 0, 10); }));
  d.Shutdown();
}

}  // namespace
}  // namespace ferry
