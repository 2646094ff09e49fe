// LocalHttpServer: a tiny HTTP/1.1 server on 127.0.0.1 that runs on a test's own libuv loop (keep-alive,
// Content-Length bodies), for the tests of the HTTP client and of the stages that send through it. A
// handler answers each request at once (or never). Single-threaded: everything runs on the test's loop.
#pragma once

#include <arpa/inet.h>
#include <curl/curl.h>
#include <uv.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ferry::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline void EnsureCurlGlobalInit() {
  // What ferry's main does once; the client itself never touches global state.
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  REQUIRE(rc == CURLE_OK);
}

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline int BoundPort(const uv_tcp_t* tcp) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

// ---------------------------------------------------------------------------------------------------------
// LocalHttpServer: HTTP/1.1 over uv_tcp_t on 127.0.0.1, keep-alive, Content-Length bodies only.

struct ServerRequest {
  std::string method;
  std::string target;
  Headers headers;  // names lower-cased, values trimmed
  std::string body;

  const std::string* header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return &v;
    }
    return nullptr;
  }
};

inline std::string BuildResponse(int status, std::string_view reason, const Headers& headers,
                                 std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

class LocalHttpServer {
 public:
  struct Reply {
    Reply(std::string b, bool close = false, std::string r = {})
        : bytes(std::move(b)), close_after(close), repeat(std::move(r)) {}
    std::string bytes;  // written as is
    bool close_after = false;
    std::string repeat;  // when set, written again and again after bytes until the client hangs up
  };
  // Returns what to answer, or nullopt to never answer.
  using Handler = std::function<std::optional<Reply>(const ServerRequest&)>;

  LocalHttpServer(uv_loop_t* loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {
    uv_tcp_init(loop_, &listener_);
    listener_.data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    start_error_ = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
    if (start_error_ == 0) {
      start_error_ = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128, &OnConnection);
    }
    port_ = BoundPort(&listener_);
  }
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  int start_error() const { return start_error_; }
  int port() const { return port_; }
  int accepted() const { return accepted_; }
  int requests() const { return requests_; }

  // Runs for each complete request, before the handler.
  std::function<void(const ServerRequest&)> on_request;

  // Closes the listener and every connection.
  void Close() {
    if (closed_) return;
    closed_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    const std::vector<Conn*> conns(conns_.begin(), conns_.end());
    for (Conn* c : conns) CloseConn(c);
  }

 private:
  struct Conn {
    uv_tcp_t tcp;
    LocalHttpServer* server = nullptr;
    std::string in;
    bool closing = false;
    char read_buf[64 * 1024];
  };
  struct WriteReq {
    uv_write_t req;
    std::string data;
    Conn* conn;
    bool close_after;
    std::string repeat;
  };

  static void OnConnection(uv_stream_t* listener, int status) {
    auto* self = static_cast<LocalHttpServer*>(listener->data);
    if (status < 0 || self->closed_) return;
    auto* c = new Conn;
    c->server = self;
    uv_tcp_init(self->loop_, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      self->CloseConn(c);
      return;
    }
    ++self->accepted_;
    self->conns_.insert(c);
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), &OnAlloc, &OnRead);
  }

  static void OnAlloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
    auto* c = static_cast<Conn*>(handle->data);
    *buf = uv_buf_init(c->read_buf, sizeof c->read_buf);
  }

  static void OnRead(uv_stream_t* stream, ssize_t n, const uv_buf_t* /*buf*/) {
    auto* c = static_cast<Conn*>(stream->data);
    if (n < 0) {
      c->server->CloseConn(c);
      return;
    }
    c->in.append(c->read_buf, static_cast<size_t>(n));
    c->server->Process(c);
  }

  void Process(Conn* c) {
    while (!c->closing && !c->in.empty()) {
      if (c->in[0] < 'A' || c->in[0] > 'Z') {  // not HTTP (a TLS ClientHello, say): hang up
        CloseConn(c);
        return;
      }
      const size_t head_end = c->in.find("\r\n\r\n");
      if (head_end == std::string::npos) return;
      ServerRequest req;
      std::string_view head(c->in.data(), head_end);
      const size_t line_end = std::min(head.find("\r\n"), head.size());
      const std::string_view request_line = head.substr(0, line_end);
      const size_t sp1 = request_line.find(' ');
      const size_t sp2 = request_line.find(' ', sp1 + 1);
      req.method = std::string(request_line.substr(0, sp1));
      req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
      head.remove_prefix(std::min(line_end + 2, head.size()));
      while (!head.empty()) {
        const size_t eol = std::min(head.find("\r\n"), head.size());
        const std::string_view line = head.substr(0, eol);
        head.remove_prefix(std::min(eol + 2, head.size()));
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(), [](char ch) {
          return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
        });
        req.headers.emplace_back(std::move(name), std::string(Trim(line.substr(colon + 1))));
      }
      size_t length = 0;
      if (const std::string* cl = req.header("content-length")) length = std::stoul(*cl);
      if (c->in.size() < head_end + 4 + length) return;
      req.body = c->in.substr(head_end + 4, length);
      c->in.erase(0, head_end + 4 + length);

      ++requests_;
      if (on_request) on_request(req);
      std::optional<Reply> reply = handler_(req);
      if (reply && !c->closing)
        Write(c, std::move(reply->bytes), reply->close_after, std::move(reply->repeat));
    }
  }

  void Write(Conn* c, std::string data, bool close_after, std::string repeat = {}) {
    auto* w = new WriteReq{{}, std::move(data), c, close_after, std::move(repeat)};
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1, &OnWritten) != 0) {
      delete w;
      CloseConn(c);
    }
  }

  static void OnWritten(uv_write_t* req, int status) {
    auto* w = static_cast<WriteReq*>(req->data);
    // The connection is still allocated: a closing stream cancels its writes before its close callback.
    if (w->close_after || status < 0) {
      w->conn->server->CloseConn(w->conn);
    } else if (!w->repeat.empty() && !w->conn->closing) {
      std::string again = w->repeat;
      w->conn->server->Write(w->conn, std::move(again), false, std::move(w->repeat));
    }
    delete w;
  }

  void CloseConn(Conn* c) {
    if (c->closing) return;
    c->closing = true;
    conns_.erase(c);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
  }

  uv_loop_t* loop_;
  Handler handler_;
  uv_tcp_t listener_{};
  int start_error_ = 0;
  int port_ = -1;
  int accepted_ = 0;
  int requests_ = 0;
  bool closed_ = false;
  std::unordered_set<Conn*> conns_;
};

// Runs the loop until it has nothing left to do; false if it was still busy after limit_ms.
inline bool RunLoop(uv_loop_t* loop, std::uint64_t limit_ms = 15000) {
  struct Watchdog {
    uv_timer_t timer;
    bool fired = false;
  } watchdog;
  uv_timer_init(loop, &watchdog.timer);
  watchdog.timer.data = &watchdog;
  uv_timer_start(
      &watchdog.timer,
      [](uv_timer_t* t) {
        static_cast<Watchdog*>(t->data)->fired = true;
        uv_stop(t->loop);
      },
      limit_ms, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog.timer));  // does not keep the loop alive
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&watchdog.timer), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);  // finishes closing the watchdog
  return !watchdog.fired;
}

}  // namespace ferry::testing
