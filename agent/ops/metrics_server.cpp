// MetricsServer: each client is one uv_tcp_t and one uv_timer_t (its deadline); reading stops once the
// head is complete or refused, and the answer is written, the write side shut down, and both closed.
#include "agent/ops/metrics_server.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "agent/core/uv_handle.h"
#include "agent/ops/http_request_head.h"

namespace ferry {

struct MetricsServer::Client {
  MetricsServer* server = nullptr;
  std::list<Client>::iterator self;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_write_t write{};
  uv_shutdown_t shutdown{};
  HttpRequestHead head;
  char read_buf[2048];
  std::string reply;
  int open_handles = 0;
  bool answering = false;
  bool lingering = false;  // answered; reading what the client still sends until its end
  bool closing = false;

  explicit Client(std::size_t max_head) : head(max_head) {}
};

namespace {

constexpr int kBacklog = 128;

uv_stream_t* AsStream(uv_tcp_t* t) {
  return reinterpret_cast<uv_stream_t*>(t);
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string Answer(int status, std::string_view content_type, std::string_view body, bool with_body,
                   std::string_view extra_headers = {}) {
  std::string out =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
                  status, Reason(status), content_type, body.size(), extra_headers);
  if (with_body) out += body;
  return out;
}

constexpr std::string_view kText = "text/plain; charset=utf-8";
// Prometheus text exposition format 0.0.4.
constexpr std::string_view kExposition = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kIndex =
    "<html><head><title>ferry</title></head><body><h1>ferry</h1>"
    "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

}  // namespace

std::string MetricsHttpAnswer(const HttpRequestHead& head, const std::function<std::string()>& render) {
  if (head.state() != HttpRequestHead::State::kComplete) {
    const int status = head.state() == HttpRequestHead::State::kBad ? head.status() : 400;
    return Answer(status, kText, fmt::format("{} {}\n", status, Reason(status)), true);
  }
  const bool get = head.method() == "GET";
  const bool head_only = head.method() == "HEAD";
  if (!get && !head_only) {
    return Answer(405, kText, "405 Method Not Allowed: GET or HEAD\n", true, "Allow: GET, HEAD\r\n");
  }
  if (head.path() == "/metrics") return Answer(200, kExposition, render(), get);
  if (head.path() == "/") return Answer(200, "text/html; charset=utf-8", kIndex, get);
  return Answer(404, kText, "404 Not Found: the metrics are at /metrics\n", get);
}

MetricsServer::MetricsServer(uv_loop_t* loop, spdlog::logger& log, ListenAddress address,
                             std::function<std::string()> render, MetricsServerLimits limits)
    : loop_(loop), log_(log), address_(std::move(address)), render_(std::move(render)), limits_(limits) {}

MetricsServer::~MetricsServer() {
  if (listener_ != nullptr || !clients_.empty()) {
    std::fprintf(stderr,
                 "ferry::MetricsServer destroyed while it still owns libuv handles; call Close() and wait "
                 "for on_closed first\n");
    std::abort();
  }
}

Status MetricsServer::Start() {
  if (started_ || closing_) return Error(ErrorCode::kInternal, "MetricsServer::Start called twice");
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop_, tcp);
  tcp->data = this;
  int rc = uv_tcp_bind(tcp, address_.sockaddr_ptr(), 0);
  if (rc == 0) {
    rc = uv_listen(AsStream(tcp), kBacklog, [](uv_stream_t* server, int status) {
      auto* self = static_cast<MetricsServer*>(server->data);
      if (status < 0) {
        self->log_.warn("metrics {}: accept: {}", self->address_.ToString(), uv_strerror(status));
        return;
      }
      self->Accept();
    });
  }
  if (rc < 0) {
    CloseHandle(tcp, [tcp] { delete tcp; });
    std::string why = uv_strerror(rc);
    if (rc == UV_EADDRINUSE) why += "; another process listens there: choose another metrics.listen port";
    if (rc == UV_EADDRNOTAVAIL) why += "; no interface of this host has that address";
    if (rc == UV_EACCES) why += "; ports below 1024 need privileges";
    return Error(ErrorCode::kIo,
                 fmt::format("metrics.listen {}: cannot listen: {}", address_.ToString(), why));
  }
  // The port bound: the one asked for, or the kernel's choice for port 0 (tests).
  sockaddr_storage bound{};
  int len = sizeof bound;
  if (uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
    address_.port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                      : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  listener_ = tcp;
  started_ = true;
  log_.info("metrics: serving Prometheus metrics at http://{}/metrics", address_.ToString());
  return Status::Ok();
}

int MetricsServer::StartReading(Client& client) {
  // Into the client's own buffer: a read holds no more than it, whatever the client sends.
  return uv_read_start(
      AsStream(&client.tcp),
      [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto* c = static_cast<Client*>(h->data);
        *buf = uv_buf_init(c->read_buf, sizeof c->read_buf);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        auto* c = static_cast<Client*>(s->data);
        c->server->OnRead(*c, nread);
      });
}

void MetricsServer::Accept() {
  Client& c = clients_.emplace_back(limits_.max_head_bytes);
  c.server = this;
  c.self = std::prev(clients_.end());
  uv_tcp_init(loop_, &c.tcp);
  uv_timer_init(loop_, &c.timer);
  c.tcp.data = &c;
  c.timer.data = &c;
  c.open_handles = 2;
  if (int rc = uv_accept(AsStream(listener_), AsStream(&c.tcp)); rc < 0) {
    log_.debug("metrics: accept: {}", uv_strerror(rc));
    CloseClient(c);
    return;
  }
  if (clients_.size() > limits_.max_clients) {
    ++counters_.refused_clients;
    if (!overflow_logged_) {
      log_.warn("metrics {}: more than {} clients at once; closing new ones unanswered", address_.ToString(),
                limits_.max_clients);
      overflow_logged_ = true;
    }
    CloseClient(c);
    return;
  }
  uv_timer_start(
      &c.timer,
      [](uv_timer_t* t) {
        auto* client = static_cast<Client*>(t->data);
        MetricsServer* self = client->server;
        ++self->counters_.timeouts;
        self->log_.debug("metrics: a client did not send its request in time; dropped");
        self->CloseClient(*client);
      },
      static_cast<std::uint64_t>(limits_.request_timeout.count()), 0);
  if (StartReading(c) < 0) CloseClient(c);
}

void MetricsServer::Linger(Client& client) {
  // Closing a socket with unread input makes the kernel send a reset, which can destroy the answer
  // before the client has read it (a refused 1 MiB request line still arriving). So what is left is read
  // and thrown away until the client's end, for at most linger_timeout (RFC 9112 §9.6).
  client.lingering = true;
  std::string().swap(client.reply);  // written: a lingering client holds no answer
  uv_timer_start(
      &client.timer,
      [](uv_timer_t* t) {
        auto* c = static_cast<Client*>(t->data);
        c->server->CloseClient(*c);
      },
      static_cast<std::uint64_t>(limits_.linger_timeout.count()), 0);
  if (StartReading(client) < 0) CloseClient(client);
}

void MetricsServer::OnRead(Client& client, ssize_t nread) {
  if (client.closing) return;
  if (client.lingering) {
    if (nread < 0) CloseClient(client);  // the client's end (or an error): done
    return;
  }
  if (client.answering) return;
  if (nread < 0) {
    CloseClient(client);  // EOF or an error before the head was complete: nobody to answer
    return;
  }
  if (client.head.Feed(std::string_view(client.read_buf, static_cast<std::size_t>(nread))) ==
      HttpRequestHead::State::kIncomplete) {
    return;
  }
  Answer(client);
}

void MetricsServer::Answer(Client& client) {
  client.answering = true;
  uv_read_stop(AsStream(&client.tcp));
  if (client.head.state() == HttpRequestHead::State::kComplete && client.head.path() == "/metrics" &&
      (client.head.method() == "GET" || client.head.method() == "HEAD")) {
    ++counters_.scrapes;
  } else if (client.head.status() != 200 || client.head.path() != "/") {
    ++counters_.bad_requests;
  }
  client.reply = MetricsHttpAnswer(client.head, render_);
  uv_update_time(loop_);  // rendering takes a while with many flows and files
  uv_timer_start(
      &client.timer,
      [](uv_timer_t* t) {
        auto* c = static_cast<Client*>(t->data);
        ++c->server->counters_.timeouts;
        c->server->log_.debug("metrics: a client did not take its answer in time; dropped");
        c->server->CloseClient(*c);
      },
      static_cast<std::uint64_t>(limits_.write_timeout.count()), 0);
  uv_buf_t buf = uv_buf_init(client.reply.data(), static_cast<unsigned>(client.reply.size()));
  int rc = uv_write(&client.write, AsStream(&client.tcp), &buf, 1, [](uv_write_t* req, int status) {
    auto* c = static_cast<Client*>(req->handle->data);
    if (status < 0) {
      c->server->CloseClient(*c);  // UV_ECANCELED: closing already; others: the client went away
      return;
    }
    int rc = uv_shutdown(&c->shutdown, req->handle, [](uv_shutdown_t* sreq, int status) {
      auto* client = static_cast<Client*>(sreq->handle->data);
      if (status < 0) {
        client->server->CloseClient(*client);
        return;
      }
      client->server->Linger(*client);
    });
    if (rc < 0) c->server->CloseClient(*c);
  });
  if (rc < 0) CloseClient(client);
}

void MetricsServer::CloseClient(Client& client) {
  if (client.closing) return;
  client.closing = true;
  // By hand, not with CloseHandle: the write and shutdown the close cancels read the handle's data.
  auto on_close = [](uv_handle_t* h) {
    auto* c = static_cast<Client*>(h->data);
    if (--c->open_handles > 0) return;
    MetricsServer* self = c->server;
    self->clients_.erase(c->self);
    if (self->clients_.size() < self->limits_.max_clients) self->overflow_logged_ = false;
    self->FinishCloseIfDone();
  };
  uv_close(AsHandle(&client.tcp), on_close);
  uv_close(AsHandle(&client.timer), on_close);
}

void MetricsServer::Close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  if (listener_ != nullptr) {
    CloseHandle(listener_, [this, tcp = listener_] {
      delete tcp;
      listener_ = nullptr;
      FinishCloseIfDone();
    });
  }
  for (Client& c : clients_) CloseClient(c);
  FinishCloseIfDone();
}

void MetricsServer::FinishCloseIfDone() {
  if (!closing_ || listener_ != nullptr || !clients_.empty() || !on_closed_) return;
  auto on_closed = std::move(on_closed_);
  on_closed_ = nullptr;
  on_closed();
}

}  // namespace ferry
