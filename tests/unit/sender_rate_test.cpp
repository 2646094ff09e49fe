// Tests of Sender (agent/delivery/sender) with per-shard rate limits and one request per shard: a real
// Sender and HttpClient on a real uv loop, against a small HTTP server on 127.0.0.1 in the same loop that
// plays a PutRecords-like endpoint. Requests to a throttled shard are spaced out by at least what their
// bytes cost (lower bounds only: a slow machine may be later, never earlier); another shard is not held
// up by it; with one_request_per_shard no shard ever has two requests in flight (checked by the server and
// by the destination) while other shards go concurrently, and a shard's records are stored in queue order,
// retried ones before newer ones; a drain sends throttled requests when they may go and nothing once it
// has timed out; request bodies are charged to a memory budget while they are out, and a request waits
// while its body would not fit unless nothing is in flight. Single-threaded: everything runs on the test's
// loop.
#include "agent/delivery/sender.h"

#include <curl/curl.h>
#include <uv.h>

#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <arpa/inet.h>

namespace ferry {
namespace {

using Lines = std::vector<std::string>;

Lines SplitLines(std::string_view text) {
  Lines lines;
  while (!text.empty()) {
    const std::size_t eol = std::min(text.find('\n'), text.size());
    lines.emplace_back(text.substr(0, eol));
    text.remove_prefix(std::min(eol + 1, text.size()));
  }
  return lines;
}

// "word1 word2 ..." -> words.
Lines Words(std::string_view line) {
  Lines words;
  while (!line.empty()) {
    const std::size_t sp = std::min(line.find(' '), line.size());
    words.emplace_back(line.substr(0, sp));
    line.remove_prefix(std::min(sp + 1, line.size()));
  }
  return words;
}

// Runs `fn` after `ms` on the loop.
void After(uv_loop_t* loop, std::uint64_t ms, std::function<void()> fn) {
  struct Task {
    uv_timer_t timer{};
    std::function<void()> fn;
  };
  auto* task = new Task;
  task->fn = std::move(fn);
  uv_timer_init(loop, &task->timer);
  task->timer.data = task;
  uv_timer_start(
      &task->timer,
      [](uv_timer_t* t) {
        auto* self = static_cast<Task*>(t->data);
        self->fn();
        uv_close(reinterpret_cast<uv_handle_t*>(t),
                 [](uv_handle_t* h) { delete static_cast<Task*>(h->data); });
      },
      ms, 0);
}

// ---------------------------------------------------------------------------------------------------------
// TestServer: HTTP/1.1 on 127.0.0.1 over uv_tcp_t, keep-alive, Content-Length bodies only. The handler
// answers each request whenever it likes (curl sends one request at a time per connection); the answer
// names the request in X-Id, its target without the leading slash.

class TestServer {
 public:
  using Respond = std::function<void(int status, std::string body)>;
  using Handler = std::function<void(const std::string& body, Respond respond)>;

  TestServer(uv_loop_t* loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {
    uv_tcp_init(loop_, &listener_);
    listener_.data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    error_ = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
    if (error_ == 0) error_ = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 64, &OnConnection);
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      port_ = ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    }
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int error() const { return error_; }
  int port() const { return port_; }

  void Close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    const std::vector<Conn*> conns(conns_.begin(), conns_.end());
    for (Conn* c : conns) CloseConn(c);
  }

 private:
  struct Conn {
    uv_tcp_t tcp{};
    TestServer* server = nullptr;
    std::string in;
    std::shared_ptr<bool> open = std::make_shared<bool>(true);  // answers after a close are dropped
    char buf[64 * 1024];
  };
  struct Write {
    uv_write_t req{};
    std::string data;
  };

  static void OnConnection(uv_stream_t* listener, int status) {
    auto* self = static_cast<TestServer*>(listener->data);
    if (status < 0) return;
    auto* c = new Conn;
    c->server = self;
    uv_tcp_init(self->loop_, &c->tcp);
    c->tcp.data = c;
    self->conns_.insert(c);
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      self->CloseConn(c);
      return;
    }
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->tcp),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* conn = static_cast<Conn*>(h->data);
          *buf = uv_buf_init(conn->buf, sizeof conn->buf);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t*) {
          auto* conn = static_cast<Conn*>(s->data);
          if (n < 0) {
            conn->server->CloseConn(conn);
            return;
          }
          conn->in.append(conn->buf, static_cast<std::size_t>(n));
          conn->server->Process(conn);
        });
  }

  void Process(Conn* c) {
    for (;;) {
      const std::size_t head_end = c->in.find("\r\n\r\n");
      if (head_end == std::string::npos) return;
      std::string head = c->in.substr(0, head_end);
      std::transform(head.begin(), head.end(), head.begin(),
                     [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; });
      const std::size_t slash = head.find('/');
      std::string id = head.substr(slash + 1, head.find(' ', slash) - slash - 1);
      std::size_t length = 0;
      if (std::size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
        length = std::stoul(head.substr(at + 17));
      }
      if (c->in.size() < head_end + 4 + length) return;
      std::string body = c->in.substr(head_end + 4, length);
      c->in.erase(0, head_end + 4 + length);
      std::weak_ptr<bool> open = c->open;
      handler_(body, [this, c, open, id](int status, std::string reply) {
        if (open.expired()) return;
        std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nX-Id: " + id +
                          "\r\nContent-Length: " + std::to_string(reply.size()) + "\r\n\r\n" + reply;
        auto* w = new Write{{}, std::move(out)};
        w->req.data = w;
        uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
        if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1,
                     [](uv_write_t* req, int) { delete static_cast<Write*>(req->data); }) != 0) {
          delete w;
          CloseConn(c);
        }
      });
    }
  }

  void CloseConn(Conn* c) {
    if (!conns_.erase(c)) return;
    c->open.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
  }

  uv_loop_t* loop_;
  Handler handler_;
  uv_tcp_t listener_{};
  int error_ = 0;
  int port_ = -1;
  std::unordered_set<Conn*> conns_;
};

// ---------------------------------------------------------------------------------------------------------
// The wire format between TestDestination and Endpoint: a request body has one line per record,
// "<shard> <data>", where data is "<label>" padded with dots; a 200 answer has one line per record, "ok" or
// the record's error code.

std::string LabelOf(std::string_view data) {
  return std::string(data.substr(0, std::min(data.find('.'), data.size())));
}

// Counts requests in flight per shard and over all.
struct Concurrency {
  std::map<std::string, int> now;
  std::map<std::string, int> max;
  int total = 0;
  int max_total = 0;

  void Start(const std::set<std::string>& shards) {
    for (const auto& s : shards) max[s] = std::max(max[s], ++now[s]);
    max_total = std::max(max_total, ++total);
  }
  void End(const std::set<std::string>& shards) {
    for (const auto& s : shards) --now[s];
    --total;
  }
  int MaxPerShard() const {
    int m = 0;
    for (const auto& [s, n] : max) m = std::max(m, n);
    return m;
  }
};

class TestDestination : public Destination {
 public:
  struct Sent {
    std::uint64_t at = 0;  // loop time the sender built the request, i.e. sent it
    Lines labels;
  };

  TestDestination(uv_loop_t* loop, int port)
      : loop_(loop), url_("http://127.0.0.1:" + std::to_string(port)) {}

  const std::string& description() const override { return description_; }

  Result<net::HttpRequest> BuildRequest(std::span<const WireRecord> records) override {
    if (fail_builds > 0) {
      --fail_builds;
      return Error(ErrorCode::kInternal, "compressing record 1: out of memory (test)");
    }
    net::HttpRequest request;
    request.url = url_ + "/" + std::to_string(next_id_);
    Sent record{uv_now(loop_), {}};
    std::set<std::string> shards;
    for (const WireRecord& r : records) {
      request.body += std::string(r.predicted_shard) + " " + std::string(r.data) + "\n";
      record.labels.push_back(LabelOf(r.data));
      shards.insert(std::string(r.predicted_shard));
    }
    concurrency.Start(shards);
    open_[next_id_++] = std::move(shards);
    sent.push_back(std::move(record));
    return request;
  }

  RequestOutcome ReadResponse(const net::HttpResponse& response, std::size_t count) override {
    if (budget != nullptr) budget_while_reading.emplace_back(budget->used(), response.body.size());
    // Requests are answered in any order; the server names the request in X-Id.
    if (const std::string* id = response.header("x-id")) {
      auto it = open_.find(std::stoul(*id));
      if (it != open_.end()) {
        concurrency.End(it->second);
        open_.erase(it);
      }
    }
    RequestOutcome outcome;
    if (response.status != 200) {
      outcome.failed = true;
      outcome.http_status = response.status;
      outcome.error_code = response.body.empty() ? "HTTP " + std::to_string(response.status) : response.body;
      return outcome;
    }
    for (const std::string& line : SplitLines(response.body))
      outcome.record_errors.push_back(line == "ok" ? "" : line);
    outcome.record_errors.resize(count, "missing");
    return outcome;
  }

  // The labels sent, in order, and when each was sent.
  std::vector<Sent> sent;
  Concurrency concurrency;
  int fail_builds = 0;  // the next this many BuildRequest calls fail (a compressor out of memory)
  // The sender's budget, when set: what it held while each answer was read, and the answer's size.
  const MemoryBudget* budget = nullptr;
  std::vector<std::pair<std::size_t, std::size_t>> budget_while_reading;

 private:
  uv_loop_t* loop_;
  std::string url_;
  std::string description_ = "test endpoint";
  std::size_t next_id_ = 0;
  std::map<std::size_t, std::set<std::string>> open_;
};

// The endpoint behind TestServer: stores records per shard in arrival order, answers after hold_ms, and
// fails what the test asks for on its first arrival.
struct Endpoint {
  std::uint64_t hold_ms = 0;
  std::set<std::string> fail_record_once;    // labels answered ProvisionedThroughputExceededException
  std::set<std::string> fail_request_once;   // a request holding one of these labels is answered 500
  std::set<std::string> fail_record_always;  // answered ProvisionedThroughputExceededException every time
  std::set<std::string> refuse;              // a request holding one is answered 400 ValidationException
  std::map<std::string, Lines> stored;       // shard -> labels stored, in order
  Concurrency concurrency;                   // as the server sees it: arrival to answer

  void Handle(uv_loop_t* loop, const std::string& body, TestServer::Respond respond) {
    std::set<std::string> shards;
    std::vector<std::pair<std::string, std::string>> records;  // shard, label
    for (const std::string& line : SplitLines(body)) {
      Lines w = Words(line);
      CHECK(w.size() == 2);  // no REQUIRE: this runs inside a libuv callback
      if (w.size() != 2) continue;
      shards.insert(w[0]);
      records.emplace_back(w[0], LabelOf(w[1]));
    }
    concurrency.Start(shards);
    std::string reply;
    int status = 200;
    for (const auto& [shard, label] : records) {
      if (fail_request_once.erase(label) > 0) status = 500;
      if (refuse.count(label) > 0) {
        status = 400;
        reply = "ValidationException";
      }
    }
    if (status == 200) {
      for (const auto& [shard, label] : records) {
        if (fail_record_once.erase(label) > 0 || fail_record_always.count(label) > 0) {
          reply += "ProvisionedThroughputExceededException\n";
        } else {
          stored[shard].push_back(label);
          reply += "ok\n";
        }
      }
    }
    auto answer = [this, shards, status, reply, respond] {
      concurrency.End(shards);
      respond(status, reply);
    };
    if (hold_ms == 0) {
      answer();
    } else {
      After(loop, hold_ms, answer);
    }
  }
};

// ---------------------------------------------------------------------------------------------------------
// Harness: loop, endpoint, server, client, destination and sender. A test submits requests, then Run()
// drains the sender (which sends what is left when it may) and closes everything once the drain is done.

void EnsureCurlGlobalInit() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);  // what ferry's main does once
  REQUIRE(rc == CURLE_OK);
}

class Harness {
 public:
  explicit Harness(SenderOptions options)
      : log_("sender-test", std::make_shared<spdlog::sinks::null_sink_mt>()),
        batch_(new Batch(1, 0, nullptr, 64 * 1024, nullptr)) {
    EnsureCurlGlobalInit();
    REQUIRE(uv_loop_init(&loop_) == 0);
    server_ =
        std::make_unique<TestServer>(&loop_, [this](const std::string& body, TestServer::Respond respond) {
          endpoint.Handle(&loop_, body, std::move(respond));
        });
    REQUIRE(server_->error() == 0);
    http_ = std::make_unique<net::HttpClient>(&loop_, net::HttpClientOptions{});
    destination_ = std::make_unique<TestDestination>(&loop_, server_->port());
    sender_ = std::make_unique<Sender>(&loop_, log_, *http_, *destination_, options);
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  ~Harness() {
    if (!finished_) {
      // A REQUIRE failed with handles open: leak rather than destroy what the loop still uses.
      (void)sender_.release();
      (void)http_.release();
      (void)server_.release();
    }
  }

  // A record for `shard` of `bytes` bytes (data plus its 1-byte partition key), labelled for the checks.
  WireRecord Record(std::string_view shard, const std::string& label, std::size_t bytes = 100) {
    std::string data = label;
    data.resize(std::max(bytes, label.size() + 1) - 1, '.');
    return WireRecord{batch_->arena().Copy(data), "k", batch_, 1, {}, batch_->arena().Copy(shard)};
  }
  void Submit(std::vector<WireRecord> records, bool spooled = false) {
    sender_->Submit(std::move(records), spooled);
  }
  Sender& sender_for_setup() { return *sender_; }

  // Drains with `timeout_ms`, then closes the client, the sender and the server; returns what the drain
  // gave up. Fails the test if the loop is still busy after 30 s.
  // drain_after_ms: the drain starts that much later (a drain changes how failures are handled).
  std::size_t Run(std::uint64_t timeout_ms = 20000, std::uint64_t drain_after_ms = 0) {
    std::optional<std::size_t> undelivered;
    auto drain = [this, timeout_ms, &undelivered] {
      sender_->Drain(Duration(timeout_ms), [this, &undelivered](std::size_t n) {
        undelivered = n;
        http_->Close([this] { sender_->Close([this] { server_->Close(); }); });
      });
    };
    if (drain_after_ms == 0) {
      drain();
    } else {
      After(&loop_, drain_after_ms, drain);
    }
    uv_timer_t watchdog{};
    uv_timer_init(&loop_, &watchdog);
    uv_timer_start(
        &watchdog, [](uv_timer_t* t) { uv_stop(t->loop); }, 30000, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog));
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    REQUIRE(undelivered.has_value());
    return *undelivered;
  }
  // Destroys everything; the loop must have no handle left.
  void Finish() {
    finished_ = true;
    sender_.reset();
    http_.reset();
    server_.reset();
    CHECK(uv_loop_close(&loop_) == 0);
  }

  const Sender& sender() const { return *sender_; }
  const TestDestination& destination() const { return *destination_; }
  TestDestination& destination() { return *destination_; }
  // The send time of the request holding `label`.
  std::uint64_t SentAt(const std::string& label) const {
    for (const auto& s : destination_->sent) {
      if (std::find(s.labels.begin(), s.labels.end(), label) != s.labels.end()) return s.at;
    }
    FAIL("never sent: " << label);
    return 0;
  }
  // The position in the send order of the first request holding `label`.
  std::size_t SendIndex(const std::string& label) const {
    for (std::size_t i = 0; i < destination_->sent.size(); ++i) {
      const Lines& l = destination_->sent[i].labels;
      if (std::find(l.begin(), l.end(), label) != l.end()) return i;
    }
    FAIL("never sent: " << label);
    return 0;
  }

  Endpoint endpoint;

 private:
  uv_loop_t loop_{};
  spdlog::logger log_;
  BatchRef batch_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<TestDestination> destination_;
  std::unique_ptr<Sender> sender_;
  bool finished_ = false;
};

// The least loop time between the first request to a shard and its k-th (0-based) after it, each of
// `bytes`, at `percent` of 1 MiB/s: the bucket starts with one second's worth, then refills at the rate.
std::uint64_t MinGapMs(std::size_t k, std::size_t bytes, std::uint32_t percent) {
  const double rate = 1048576.0 * percent / 100.0;  // bytes per second
  const double owed = static_cast<double>(k * bytes) - rate;
  return owed <= 0 ? 0 : static_cast<std::uint64_t>(owed / rate * 1000.0);  // rounded down
}

constexpr std::size_t kBig = 40000;  // at 10% a shard takes about 2.6 of these per second

TEST_CASE("Requests to one shard at 10% are spaced out by their bytes", "[sender][rate]") {
  SenderOptions options;
  options.rate_limit_percent = 10;
  Harness h(options);
  for (int i = 0; i < 6; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), kBig)});
  CHECK(h.Run() == 0);

  const auto& sent = h.destination().sent;
  REQUIRE(sent.size() == 6);
  for (std::size_t k = 1; k < sent.size(); ++k) {
    INFO("request " << k);
    CHECK(sent[k].labels == Lines{"A" + std::to_string(k)});  // in order
    CHECK(sent[k].at - sent[0].at >= MinGapMs(k, kBig, 10));
  }
  CHECK(sent[5].at - sent[0].at >= 900);
  CHECK(h.endpoint.stored["A"] == Lines{"A0", "A1", "A2", "A3", "A4", "A5"});
  const SenderCounters& c = h.sender().counters();
  CHECK(c.requests == 6);
  CHECK(c.records_sent == 6);
  CHECK(c.throttle_waits >= 1);
  CHECK(c.throttle_waits <= 4);  // the first two fit in the bucket
  CHECK(c.throttle_wait_ms >= MinGapMs(5, kBig, 10));
  CHECK(h.sender().unsent_records() == 0);
  h.Finish();
}

TEST_CASE("Without a rate limit nothing waits", "[sender][rate]") {
  Harness h(SenderOptions{});
  for (int i = 0; i < 6; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), kBig)});
  CHECK(h.Run() == 0);
  CHECK(h.destination().sent.size() == 6);
  CHECK(h.sender().counters().throttle_waits == 0);
  CHECK(h.sender().counters().shard_waits == 0);
  CHECK(h.destination().concurrency.MaxPerShard() > 1);  // four at once to one shard
  h.Finish();
}

TEST_CASE("A throttled shard does not hold up another shard", "[sender][rate]") {
  SenderOptions options;
  options.rate_limit_percent = 10;
  Harness h(options);
  for (int i = 0; i < 6; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), kBig)});
  for (int i = 0; i < 4; ++i) h.Submit({h.Record("B", "B" + std::to_string(i), kBig)});
  CHECK(h.Run() == 0);

  REQUIRE(h.destination().sent.size() == 10);
  // B0 was queued behind A3, which had to wait: it went first (at once, not after A's backlog).
  CHECK(h.SendIndex("B0") < h.SendIndex("A3"));
  // B's own pace, and A's, each set by their own bytes alone.
  for (std::size_t k = 1; k < 4; ++k) {
    CHECK(h.SentAt("B" + std::to_string(k)) - h.SentAt("B0") >= MinGapMs(k, kBig, 10));
  }
  CHECK(h.SentAt("A5") - h.SentAt("A0") >= MinGapMs(5, kBig, 10));
  CHECK(h.SendIndex("B3") < h.SendIndex("A5"));  // about 145 ms against at least 907 ms
  CHECK(h.endpoint.stored["A"] == Lines{"A0", "A1", "A2", "A3", "A4", "A5"});
  CHECK(h.endpoint.stored["B"] == Lines{"B0", "B1", "B2", "B3"});
  h.Finish();
}

TEST_CASE("A request waits for the slowest of its shards", "[sender][rate]") {
  SenderOptions options;
  options.rate_limit_percent = 10;
  Harness h(options);
  for (int i = 0; i < 4; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), kBig)});
  h.Submit({h.Record("B", "AB-b", 100), h.Record("A", "AB-a", 100)});
  CHECK(h.Run() == 0);
  // Four of 40,000 bytes, then this one: it goes after A has paid for A0..A3.
  CHECK(h.SentAt("AB-b") - h.SentAt("A0") >= MinGapMs(4, kBig, 10));
  CHECK(h.SendIndex("AB-b") > h.SendIndex("A3"));
  h.Finish();
}

// Shards of each request, in submission order: runs of one shard, two shards and three.
const std::vector<Lines> kShardPlan = {{"A"},      {"B"}, {"A", "B"}, {"C"},           {"A"}, {"C"},
                                       {"B", "C"}, {"A"}, {"B"},      {"A", "B", "C"}, {"C"}, {"A"}};

TEST_CASE("One request per shard: never two in flight for a shard, other shards concurrently",
          "[sender][rate]") {
  SenderOptions options;
  options.one_request_per_shard = true;
  options.max_in_flight = 4;
  Harness h(options);
  h.endpoint.hold_ms = 20;
  std::map<std::string, Lines> queued;  // shard -> labels in submission order
  std::map<std::string, int> next;
  for (const Lines& shards : kShardPlan) {
    std::vector<WireRecord> request;
    for (const std::string& shard : shards) {
      for (int i = 0; i < 2; ++i) {
        std::string label = shard + std::to_string(next[shard]++);
        queued[shard].push_back(label);
        request.push_back(h.Record(shard, label));
      }
    }
    h.Submit(std::move(request));
  }
  CHECK(h.Run() == 0);

  CHECK(h.endpoint.concurrency.MaxPerShard() == 1);
  CHECK(h.destination().concurrency.MaxPerShard() == 1);
  CHECK(h.destination().concurrency.max_total >= 2);  // {A}, {B} and {C} went at once
  CHECK(h.endpoint.stored == queued);
  CHECK(h.destination().sent.size() == kShardPlan.size());
  CHECK(h.sender().counters().shard_waits > 0);
  h.Finish();
}

TEST_CASE("One request per shard: retried records go before newer records of their shard", "[sender][rate]") {
  SenderOptions options;
  options.one_request_per_shard = true;
  options.backoff_base = Duration(30);
  std::set<std::string> fail_record;
  std::set<std::string> fail_request;
  std::size_t bytes = 100;
  SECTION("a failed record") {
    fail_record = {"A1"};
  }
  SECTION("a failed request") {
    fail_request = {"A1"};
  }
  SECTION("a failed record, with a rate limit too") {
    fail_record = {"A1"};
    options.rate_limit_percent = 1;  // 10,486 B/s: the retry and every later request of A wait for it
    bytes = 4000;
  }
  Harness h(options);
  h.endpoint.fail_record_once = fail_record;
  h.endpoint.fail_request_once = fail_request;
  h.Submit({h.Record("A", "A0", bytes), h.Record("A", "A1", bytes), h.Record("A", "A2", bytes)});
  h.Submit({h.Record("A", "A3", bytes), h.Record("A", "A4", bytes)});
  h.Submit({h.Record("B", "B0", bytes)});
  h.Submit({h.Record("A", "A5", bytes)});
  CHECK(h.Run() == 0);

  const Lines& a = h.endpoint.stored["A"];
  REQUIRE(a.size() == 6);
  // A1 after A2 when only it failed (Kinesis had stored A2 already: the documented hole), but before
  // every record of a later request.
  const auto pos = [&a](const std::string& label) {
    return std::find(a.begin(), a.end(), label) - a.begin();
  };
  CHECK(pos("A0") < pos("A1"));
  CHECK(pos("A1") < pos("A3"));
  CHECK(pos("A3") < pos("A4"));
  CHECK(pos("A4") < pos("A5"));
  CHECK(h.endpoint.stored["B"] == Lines{"B0"});
  CHECK(h.destination().concurrency.MaxPerShard() == 1);
  h.Finish();
}

TEST_CASE("A retry is charged again and keeps its place before newer requests", "[sender][rate]") {
  SenderOptions options;
  options.rate_limit_percent = 10;
  options.backoff_base = Duration(10);
  Harness h(options);
  h.endpoint.fail_record_once = {"A0"};
  h.Submit({h.Record("A", "A0", kBig)});
  h.Submit({h.Record("A", "A1", kBig)});
  h.Submit({h.Record("A", "A2", kBig)});
  h.Submit({h.Record("A", "A3", kBig)});
  CHECK(h.Run() == 0);
  // Five attempts of 40,000 bytes: the last one cannot go before the bucket refilled for it.
  REQUIRE(h.destination().sent.size() == 5);
  CHECK(h.destination().sent[4].at - h.destination().sent[0].at >= MinGapMs(4, kBig, 10));
  CHECK(h.sender().counters().records_retried == 1);
  CHECK(h.sender().counters().errors.at("ProvisionedThroughputExceededException") == 1);
  // The retry of A0 went before whatever of A1..A3 still waited for the limiter.
  CHECK(h.SendIndex("A3") == 4);
  h.Finish();
}

TEST_CASE("Request bodies are charged to the memory budget and wait while they would not fit",
          "[sender][budget]") {
  MemoryBudget budget(3000);
  SenderOptions options;
  options.max_in_flight = 4;
  options.budget = &budget;
  Harness h(options);
  h.endpoint.hold_ms = 20;
  for (int i = 0; i < 6; ++i) h.Submit({h.Record("A", "r" + std::to_string(i), 1000)});
  CHECK(h.Run() == 0);
  // Two bodies of about 1 KB fit in 3,000 bytes; a third would not, so it waited for a response.
  CHECK(h.endpoint.concurrency.max_total == 2);
  CHECK(h.endpoint.stored.at("A") == Lines{"r0", "r1", "r2", "r3", "r4", "r5"});
  CHECK(budget.used() == 0);
  h.Finish();
}

TEST_CASE("A request larger than the whole memory budget still goes, alone", "[sender][budget]") {
  MemoryBudget budget(500);
  SenderOptions options;
  options.budget = &budget;
  Harness h(options);
  h.endpoint.hold_ms = 10;
  for (int i = 0; i < 3; ++i) h.Submit({h.Record("A", "r" + std::to_string(i), 1000)});
  CHECK(h.Run() == 0);
  CHECK(h.endpoint.concurrency.max_total == 1);
  CHECK(h.endpoint.stored.at("A") == Lines{"r0", "r1", "r2"});
  CHECK(budget.used() == 0);
  h.Finish();
}

TEST_CASE("An answer's body counts against the memory budget while it is read", "[sender][budget]") {
  MemoryBudget budget(1 << 20);
  SenderOptions options;
  options.max_in_flight = 1;  // one at a time: nothing else is held while an answer is read
  options.budget = &budget;
  Harness h(options);
  h.destination().budget = &budget;
  for (int i = 0; i < 3; ++i) {
    std::vector<WireRecord> records;
    for (int k = 0; k < 50; ++k) records.push_back(h.Record("A", "r" + std::to_string(i * 50 + k), 100));
    h.Submit(std::move(records));
  }
  CHECK(h.Run() == 0);
  const auto& seen = h.destination().budget_while_reading;
  REQUIRE(seen.size() == 3);
  for (const auto& [held, body] : seen) {
    CHECK(body == 50 * 3);  // "ok\n" per record
    CHECK(held == body);    // the request's body is given back; the answer's is held until it is read
  }
  CHECK(budget.used() == 0);
  h.Finish();
}

TEST_CASE("A request that cannot be built waits a backoff and is built again; nothing throws",
          "[sender][budget]") {
  SenderOptions options;
  options.backoff_base = Duration(20);
  options.backoff_cap = Duration(40);
  Harness h(options);
  h.destination().fail_builds = 2;
  h.Submit({h.Record("A", "a0"), h.Record("A", "a1")});
  h.Submit({h.Record("B", "b0")});
  CHECK_NOTHROW(h.Run());
  CHECK(h.endpoint.stored.at("A") == Lines{"a0", "a1"});
  CHECK(h.endpoint.stored.at("B") == Lines{"b0"});
  const SenderCounters& c = h.sender().counters();
  CHECK(c.errors.at("EncodingFailed") == 2);
  CHECK(c.request_failures == 2);
  CHECK(c.records_sent == 3);
  CHECK(h.sender().unsent_records() == 0);
  h.Finish();
}

TEST_CASE("A drain sends nothing more once it has timed out", "[sender][rate]") {
  SenderOptions options;
  options.rate_limit_percent = 10;
  Harness h(options);
  // 80,000 bytes each: the first fits the bucket of 104,857; the second waits about 527 ms for its cost.
  for (int i = 0; i < 3; ++i) h.Submit({h.Record("A", "A" + std::to_string(i), 2 * kBig)});
  CHECK(h.Run(100) == 2);
  CHECK(h.destination().sent.size() == 1);
  CHECK(h.sender().counters().throttle_waits == 1);
  CHECK(h.endpoint.stored["A"] == Lines{"A0"});
  h.Finish();
}

// ---------------------------------------------------------------------------------------------------------
// Safekeeping: what the sender hands to the spool and to the dead letters, and when.

struct Kept {
  Lines spilled;
  Lines dead;
  std::string dead_code;
  bool spool_takes = true;

  void Attach(Sender& sender) {
    sender.set_safekeeping(
        [this](std::span<const WireRecord> records) {
          if (!spool_takes) return false;
          for (const auto& r : records) spilled.push_back(LabelOf(r.data));
          return true;
        },
        [this](std::span<const WireRecord> records, const std::string& code, const std::string&) {
          for (const auto& r : records) dead.push_back(LabelOf(r.data));
          dead_code = code;
          return true;
        });
  }
};

TEST_CASE("A request that fails as a whole goes to the spool at once", "[sender][safekeeping]") {
  Harness h(SenderOptions{});
  Kept kept;
  kept.Attach(h.sender_for_setup());
  h.endpoint.fail_request_once = {"A1"};
  h.Submit({h.Record("A", "A0"), h.Record("A", "A1"), h.Record("A", "A2")});
  h.Submit({h.Record("B", "B0")});
  CHECK(h.Run() == 0);
  CHECK(kept.spilled == Lines{"A0", "A1", "A2"});
  CHECK(h.endpoint.stored["A"].empty());
  CHECK(h.endpoint.stored["B"] == Lines{"B0"});
  CHECK(h.sender().counters().records_spooled == 3);
  CHECK(h.destination().sent.size() == 2);
  h.Finish();
}

TEST_CASE("Failed records get one retry from memory, then go to the spool", "[sender][safekeeping]") {
  SenderOptions options;
  options.backoff_base = Duration(5);
  Harness h(options);
  Kept kept;
  kept.Attach(h.sender_for_setup());
  h.endpoint.fail_record_once = {"A1"};
  h.endpoint.fail_record_always = {"A2"};
  h.Submit({h.Record("A", "A0"), h.Record("A", "A1"), h.Record("A", "A2")});
  CHECK(h.Run(20000, 500) == 0);
  CHECK(h.endpoint.stored["A"] == Lines{"A0", "A1"});
  CHECK(kept.spilled == Lines{"A2"});
  CHECK(h.destination().sent.size() == 2);
  h.Finish();
}

TEST_CASE("Records from the spool are retried from memory, never spilled again", "[sender][safekeeping]") {
  SenderOptions options;
  options.backoff_base = Duration(5);
  Harness h(options);
  Kept kept;
  kept.Attach(h.sender_for_setup());
  h.endpoint.fail_request_once = {"A0"};
  h.endpoint.fail_record_once = {"A1"};
  h.Submit({h.Record("A", "A0"), h.Record("A", "A1")}, /*spooled=*/true);
  // The retry of the failed request fails a record, whose retry then succeeds.
  CHECK(h.Run(20000, 500) == 0);
  CHECK(kept.spilled.empty());
  CHECK(h.endpoint.stored["A"] == Lines{"A0", "A1"});
  h.Finish();
}

TEST_CASE("A refused request is halved until the refused record is alone; it becomes a dead letter",
          "[sender][safekeeping]") {
  Harness h(SenderOptions{});
  Kept kept;
  kept.Attach(h.sender_for_setup());
  h.endpoint.refuse = {"A2"};
  h.Submit({h.Record("A", "A0"), h.Record("A", "A1"), h.Record("A", "A2"), h.Record("A", "A3"),
            h.Record("A", "A4")});
  h.Submit({h.Record("A", "A5")});
  CHECK(h.Run() == 0);
  CHECK(kept.dead == Lines{"A2"});
  CHECK(kept.dead_code == "ValidationException");
  CHECK(kept.spilled.empty());
  Lines stored = h.endpoint.stored["A"];
  std::sort(stored.begin(), stored.end());
  CHECK(stored == Lines{"A0", "A1", "A3", "A4", "A5"});
  // 5 -> 2 + 3 -> (2 stored) 1 + 2 -> (A2 alone) ... at most 3 splits for 5 records.
  CHECK(h.sender().counters().requests_split >= 2);
  CHECK(h.sender().counters().requests_split <= 3);
  CHECK(h.sender().counters().records_dead_lettered == 1);
  h.Finish();
}

TEST_CASE("A drain spills what fails, lets spooled records go, and gives up the rest to their sources",
          "[sender][safekeeping]") {
  SenderOptions options;
  options.backoff_base = Duration(20000);
  options.backoff_cap = Duration(20000);
  Harness h(options);
  Kept kept;
  kept.spool_takes = false;  // full at first: the failed request waits in memory for its retry
  kept.Attach(h.sender_for_setup());
  h.endpoint.fail_request_once = {"A0"};
  h.Submit({h.Record("A", "A0")});
  h.Submit({h.Record("B", "B0")}, /*spooled=*/true);
  h.endpoint.fail_request_once.insert("B0");
  SECTION("the spool takes them at the drain") {
    kept.spool_takes = true;
  }
  SECTION("the spool refuses: the records are given up to their sources") {}
  // The drain starts before the answers arrive: both fail while it runs.
  const std::size_t undelivered = h.Run(1000);
  if (kept.spool_takes) {
    // A0 went to the spool on its failure; B0 came from the spool and was let go, so nothing is owed.
    CHECK(kept.spilled == Lines{"A0"});
    CHECK(undelivered == 0);
  } else {
    CHECK(kept.spilled.empty());
    CHECK(undelivered == 1);  // A0: still behind its source checkpoint
  }
  CHECK(h.destination().sent.size() == 2);  // nothing was retried
  h.Finish();
}

}  // namespace
}  // namespace ferry
