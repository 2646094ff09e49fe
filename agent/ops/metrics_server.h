// MetricsServer: the Prometheus endpoint (`metrics.listen`), a TCP listener on the daemon's loop. It
// answers GET and HEAD of /metrics with the exposition the render callback returns, "/" with a short page,
// other paths with 404 and other methods with 405; every answer ends the connection (Connection: close),
// HTTP/1.0 and 1.1 alike.
//
// Bounds, so a slow or hostile client cannot hold ferry up or grow its memory: at most max_clients
// connections (a connection beyond that is closed at once, unanswered); a request head of at most
// max_head_bytes (431 beyond; http_request_head.h); a client has request_timeout to send its head and
// then write_timeout to take the answer, else it is dropped; after the answer its further input is
// discarded for at most linger_timeout. Per client that is max_head_bytes plus one answer held.
//
// Thread rules: loop thread only. The render callback runs on the loop, once per GET or HEAD of /metrics,
// and must not throw. The process must ignore SIGPIPE (ferry's main does).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <string>

#include <spdlog/logger.h>

#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/ops/listen_address.h"

namespace ferry {

struct MetricsServerLimits {
  std::size_t max_clients = 16;
  std::size_t max_head_bytes = 8192;
  Duration request_timeout = std::chrono::seconds(5);
  Duration write_timeout = std::chrono::seconds(5);
  // After the answer, what the client still sends is read and discarded until its end, for at most this
  // long, so that closing does not reset the connection and destroy the answer in flight.
  Duration linger_timeout = std::chrono::seconds(2);
};

struct MetricsServerCounters {
  std::uint64_t scrapes = 0;          // answers to GET or HEAD /metrics
  std::uint64_t refused_clients = 0;  // connections closed at once: max_clients were open
  std::uint64_t bad_requests = 0;     // answered 400, 404, 405, 431 or 505
  std::uint64_t timeouts = 0;         // clients dropped at a deadline
};

class MetricsServer {
 public:
  // `loop` and `log` must outlive the server. No libuv handle exists before Start() succeeds.
  MetricsServer(uv_loop_t* loop, spdlog::logger& log, ListenAddress address,
                std::function<std::string()> render, MetricsServerLimits limits = {});
  // Requires Close() to have completed, or Start() never to have succeeded (aborts otherwise).
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and listens. An address in use or not available on this host is kIo, naming the address.
  Status Start();
  // Closes the listener and every client; on_closed runs from the loop once all handles are closed (at once
  // if Start() never succeeded). The server may be destroyed from on_closed. Later calls are ignored.
  void Close(std::function<void()> on_closed);

  // The port bound: the one asked for (an address with port 0, which only code can make, gets a free one).
  std::uint16_t port() const { return address_.port; }
  std::size_t clients() const { return clients_.size(); }
  const MetricsServerCounters& counters() const { return counters_; }

 private:
  struct Client;

  void Accept();
  int StartReading(Client& client);
  void OnRead(Client& client, ssize_t nread);
  void Answer(Client& client);
  void Linger(Client& client);
  void CloseClient(Client& client);
  void FinishCloseIfDone();

  uv_loop_t* loop_;
  spdlog::logger& log_;
  ListenAddress address_;
  std::function<std::string()> render_;
  MetricsServerLimits limits_;
  MetricsServerCounters counters_;
  uv_tcp_t* listener_ = nullptr;  // heap: freed by its close callback
  std::list<Client> clients_;     // stable addresses: libuv handles live inside
  bool started_ = false;
  bool closing_ = false;
  bool overflow_logged_ = false;
  std::function<void()> on_closed_;
};

// The whole HTTP answer for a request head (status line, headers, body; HEAD without the body).
// render is called only for GET or HEAD of /metrics. For tests and the fuzz target as well as the server.
class HttpRequestHead;
std::string MetricsHttpAnswer(const HttpRequestHead& head, const std::function<std::string()>& render);

}  // namespace ferry
