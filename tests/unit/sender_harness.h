// The Sender's test harness: a real Sender and HttpClient on a real uv loop, against a small HTTP server
// on 127.0.0.1 in the same loop (TestServer) that plays a PutRecords-like endpoint (Endpoint) through a
// line-based Destination (TestDestination). Shared by the sender's tests (sender_rate_test.cpp,
// sender_safekeeping_test.cpp). Single-threaded: everything runs on the test's loop.
#pragma once

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

#include "agent/delivery/sender.h"
#include "agent/kinesis/shard_admission.h"

namespace ferry::sender_testing {

using Lines = std::vector<std::string>;

inline Lines SplitLines(std::string_view text) {
  Lines lines;
  while (!text.empty()) {
    const std::size_t eol = std::min(text.find('\n'), text.size());
    lines.emplace_back(text.substr(0, eol));
    text.remove_prefix(std::min(eol + 1, text.size()));
  }
  return lines;
}

// "word1 word2 ..." -> words.
inline Lines Words(std::string_view line) {
  Lines words;
  while (!line.empty()) {
    const std::size_t sp = std::min(line.find(' '), line.size());
    words.emplace_back(line.substr(0, sp));
    line.remove_prefix(std::min(sp + 1, line.size()));
  }
  return words;
}

// Runs `fn` after `ms` on the loop.
inline void After(uv_loop_t* loop, std::uint64_t ms, std::function<void()> fn) {
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

inline std::string LabelOf(std::string_view data) {
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
      request.body += std::string(r.lane) + " " + std::string(r.data) + "\n";
      record.labels.push_back(LabelOf(r.data));
      shards.insert(std::string(r.lane));
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
  std::set<std::string> deny;                // ... 400 AccessDeniedException (an operator's error)
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
      if (deny.count(label) > 0) {
        status = 400;
        reply = "AccessDeniedException";
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

// Records in batches of their own, each acknowledged as a whole, whose acknowledgements are noted by label:
// whether a record was acknowledged, and when, is what the delivery promise is about.
class TrackedRecords : public AckSink {
 public:
  // A record for `shard` of `bytes` bytes (data plus its 1-byte partition key), labelled for the checks.
  WireRecord Make(std::string_view shard, const std::string& label, std::size_t bytes = 100) {
    const SourceId source = next_source_++;
    labels_[source] = label;
    BatchRef batch(new Batch(source, 0, this, 4096, nullptr));
    std::string data = label;
    data.resize(std::max(bytes, label.size() + 1) - 1, '.');
    WireRecord record{batch->arena().Copy(data), "k", batch, 1, {}, batch->arena().Copy(shard)};
    batch->SealAs(1);
    return record;
  }
  const std::set<std::string>& acked() const { return acked_; }
  void OnBatchDone(SourceId source, std::uint64_t, std::uint64_t) override { acked_.insert(labels_[source]); }

 private:
  std::map<SourceId, std::string> labels_;
  std::set<std::string> acked_;
  SourceId next_source_ = 1;
};

// ---------------------------------------------------------------------------------------------------------
// Harness: loop, endpoint, server, client, destination and sender. A test submits requests, then Run()
// drains the sender (which sends what is left when it may) and closes everything once the drain is done.

inline void EnsureCurlGlobalInit() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);  // what ferry's main does once
  REQUIRE(rc == CURLE_OK);
}

// What the Kinesis gate given to the sender keeps (kinesis/shard_admission.h); by default there is none.
struct ShardOrder {
  std::uint32_t rate_limit_percent = 0;
  bool one_request_per_shard = false;
};

class Harness {
 public:
  explicit Harness(SenderOptions options, ShardOrder shards = {})
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
    if (shards.rate_limit_percent != 0 || shards.one_request_per_shard) {
      gate_ =
          std::make_unique<kinesis::ShardAdmission>(shards.rate_limit_percent, shards.one_request_per_shard);
      options.gate = gate_.get();
    }
    sender_ = std::make_unique<Sender>(&loop_, log_, *http_, *destination_, options);
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  ~Harness() {
    if (!finished_) {
      // A REQUIRE failed with handles open: leak rather than destroy what the loop still uses.
      (void)sender_.release();
      (void)gate_.release();
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
  // As Record, in a batch of its own whose acknowledgement is noted in acked().
  WireRecord TrackedRecord(std::string_view shard, const std::string& label, std::size_t bytes = 100) {
    return tracked_.Make(shard, label, bytes);
  }
  const std::set<std::string>& acked() const { return tracked_.acked(); }
  uv_loop_t* loop() { return &loop_; }

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
  TrackedRecords tracked_;
  spdlog::logger log_;
  BatchRef batch_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<TestDestination> destination_;
  std::unique_ptr<kinesis::ShardAdmission> gate_;  // outlives the sender
  std::unique_ptr<Sender> sender_;
  bool finished_ = false;
};

}  // namespace ferry::sender_testing
