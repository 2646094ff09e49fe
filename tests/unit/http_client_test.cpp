// Tests of ferry::net::HttpClient (agent/net/http_client.h) against a tiny HTTP/1.1 server that runs on
// the same libuv loop as the client. Thread rules: single-threaded; the test body, the client, the server
// and every callback run on the test's own uv_loop_t.
#include "agent/net/http_client.h"

#include "tests/unit/local_http_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <uv.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

using namespace ferry::testing;
using ferry::net::HttpClient;
using ferry::net::HttpClientOptions;
using ferry::net::HttpRequest;
using ferry::net::HttpResponse;

// The routes the tests use.
std::optional<LocalHttpServer::Reply> Route(const ServerRequest& req) {
  using Reply = LocalHttpServer::Reply;
  auto or_none = [](const std::string* v) { return v != nullptr ? *v : std::string("<none>"); };
  if (req.target == "/echo") {
    return Reply{BuildResponse(200, "OK",
                               {{"X-Echo-Method", req.method},
                                {"X-Echo-Header", or_none(req.header("x-test"))},
                                {"X-Echo-Content-Type", or_none(req.header("content-type"))},
                                {"X-Echo-User-Agent", or_none(req.header("user-agent"))},
                                {"X-Saw-Expect", req.header("expect") != nullptr ? "yes" : "no"},
                                {"X-Padded", "  padded value \t"}},
                               req.body)};
  }
  if (req.target.starts_with("/n/")) return Reply{BuildResponse(200, "OK", {}, req.target.substr(3))};
  if (req.target == "/status/500") {
    return Reply{BuildResponse(500, "Internal Server Error", {{"Content-Type", "text/plain"}}, "boom")};
  }
  if (req.target == "/interim") {
    return Reply{"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n" +
                 BuildResponse(201, "Created", {{"X-Final", "yes"}}, "done")};
  }
  if (req.target == "/close") return Reply{BuildResponse(200, "OK", {{"Connection", "close"}}, "bye"), true};
  if (req.target == "/hang") return std::nullopt;
  // A body without end (chunks of 16 KiB for as long as the client reads), or one of the given size.
  if (req.target == "/endless") {
    return Reply{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
                 "4000\r\n" + std::string(16384, 'x') + "\r\n"};
  }
  if (req.target.starts_with("/bytes/")) {
    return Reply{BuildResponse(200, "OK", {}, std::string(std::stoul(req.target.substr(7)), 'y'))};
  }
  if (req.target == "/endless-headers") {
    return Reply{"HTTP/1.1 200 OK\r\n", false, "X-Pad: " + std::string(1000, 'h') + "\r\n"};
  }
  // Absolute form: the server is playing a forward proxy for an http:// URL.
  if (req.target.starts_with("http://")) {
    return Reply{BuildResponse(200, "OK", {{"X-Proxied-Target", req.target}}, "via proxy")};
  }
  return Reply{BuildResponse(404, "Not Found", {}, "")};
}

// ---------------------------------------------------------------------------------------------------------
// Fixture: a loop, a server and a client. Tests end with CloseAll() (from a callback), Run(), Finish().

struct Fixture {
  uv_loop_t loop{};
  std::unique_ptr<LocalHttpServer> server;
  std::unique_ptr<HttpClient> client;
  bool finished = false;

  explicit Fixture(HttpClientOptions options = {}) {
    EnsureCurlGlobalInit();
    REQUIRE(uv_loop_init(&loop) == 0);
    server = std::make_unique<LocalHttpServer>(&loop, Route);
    client = std::make_unique<HttpClient>(&loop, std::move(options));
    REQUIRE(server->start_error() == 0);
    REQUIRE(server->port() > 0);
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
  ~Fixture() {
    if (!finished) {
      // A REQUIRE failed while handles were open: leak them rather than destroy what the loop still uses.
      (void)client.release();
      (void)server.release();
    }
  }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + std::string(path);
  }
  // Closes the client, then (from its on_closed) the server.
  void CloseAll() {
    client->Close([this] { server->Close(); });
  }
  bool Run() { return RunLoop(&loop); }
  // Destroys client and server, then closes the loop: 0 only if no handle is left.
  int Finish() {
    finished = true;
    client.reset();
    server.reset();
    return uv_loop_close(&loop);
  }
};

// The header's value, or "<missing>" (so a wrong client fails the CHECK instead of crashing the test).
std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  const std::string* v = r.header(name);
  return v != nullptr ? *v : std::string("<missing>");
}

HttpRequest Post(std::string url, std::string body = {}) {
  HttpRequest req;
  req.url = std::move(url);
  req.body = std::move(body);
  return req;
}

// ---------------------------------------------------------------------------------------------------------

TEST_CASE("HttpClient: a POST round-trips body and headers", "[http_client]") {
  std::string body;
  SECTION("small body") {
    body = R"({"StreamName":"logs","Records":[]})";
  }
  SECTION("2 MiB body is sent without Expect: 100-continue") {
    body.reserve(2 << 20);
    for (int i = 0; body.size() < (2u << 20); ++i) body += "record " + std::to_string(i) + "\n";
  }
  HttpClientOptions options;
  options.user_agent = "ferry-test/1";
  Fixture f(options);

  HttpRequest req = Post(f.Url("/echo"), body);
  req.headers = {{"X-Test", "hello"}, {"Content-Type", "application/x-amz-json-1.1"}};
  std::optional<HttpResponse> got;
  bool inside_send = true;
  bool ran_inside_send = false;
  std::size_t in_flight_in_callback = 99;
  f.client->Send(std::move(req), [&](HttpResponse&& r) {
    ran_inside_send = inside_send;
    in_flight_in_callback = f.client->in_flight();
    got = std::move(r);
    f.CloseAll();
  });
  inside_send = false;
  CHECK(f.client->in_flight() == 1);
  REQUIRE(f.Run());
  CHECK(f.server->requests() == 1);
  REQUIRE(f.Finish() == 0);

  CHECK_FALSE(ran_inside_send);
  CHECK(in_flight_in_callback == 0);
  REQUIRE(got.has_value());
  CHECK(got->transport_ok());
  CHECK(got->transport_error.empty());
  CHECK(got->status == 200);
  CHECK(got->body.size() == body.size());
  CHECK(got->body == body);
  CHECK(HeaderOf(*got, "x-echo-header") == "hello");
  CHECK(HeaderOf(*got, "x-echo-method") == "POST");
  CHECK(HeaderOf(*got, "x-echo-content-type") == "application/x-amz-json-1.1");
  CHECK(HeaderOf(*got, "x-echo-user-agent") == "ferry-test/1");
  CHECK(HeaderOf(*got, "x-saw-expect") == "no");
  CHECK(HeaderOf(*got, "x-padded") == "padded value");
  CHECK(HeaderOf(*got, "content-length") == std::to_string(body.size()));
  CHECK(got->header("x-echo-header") != nullptr);
  CHECK(got->header("X-Echo-Header") == nullptr);  // lookups take lower-case names
  CHECK(got->header("x-missing") == nullptr);
}

TEST_CASE("HttpClient: a body-less request sends no Content-Type of curl's own", "[http_client]") {
  Fixture f;
  std::optional<HttpResponse> got;
  f.client->Send(Post(f.Url("/echo")), [&](HttpResponse&& r) {
    got = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->status == 200);
  CHECK(got->body.empty());
  CHECK(HeaderOf(*got, "x-echo-content-type") == "<none>");
  CHECK(HeaderOf(*got, "x-echo-user-agent") == "ferry");
}

struct WindowStats {
  int completed = 0;
  int good = 0;
  std::size_t max_in_flight = 0;
  int server_requests = 0;
  int accepted = 0;
};

// Sends `total` requests keeping `window` in flight, each next one sent from a completion callback.
WindowStats SendWindowed(HttpClientOptions options, int total, int window) {
  Fixture f(std::move(options));
  WindowStats stats;
  int sent = 0;
  std::function<void()> send_next = [&] {
    const int i = sent++;
    f.client->Send(Post(f.Url("/n/" + std::to_string(i)), "record " + std::to_string(i)),
                   [&, i](HttpResponse&& r) {
                     ++stats.completed;
                     if (r.transport_ok() && r.status == 200 && r.body == std::to_string(i)) ++stats.good;
                     if (sent < total) {
                       send_next();
                     } else if (stats.completed == total) {
                       f.CloseAll();
                     }
                   });
    stats.max_in_flight = std::max(stats.max_in_flight, f.client->in_flight());
  };
  for (int i = 0; i < window; ++i) send_next();
  REQUIRE(f.Run());
  stats.server_requests = f.server->requests();
  stats.accepted = f.server->accepted();
  REQUIRE(f.Finish() == 0);
  return stats;
}

TEST_CASE("HttpClient: 200 requests, 8 in flight, reuse keep-alive connections", "[http_client]") {
  constexpr int kTotal = 200;
  constexpr int kWindow = 8;
  std::size_t max_connections = 0;
  SECTION("default limit of 8 connections") {
    max_connections = 8;
  }
  SECTION("limit of 2 connections: the rest queue inside curl") {
    max_connections = 2;
  }
  HttpClientOptions options;
  options.max_connections = max_connections;
  const WindowStats stats = SendWindowed(options, kTotal, kWindow);
  CHECK(stats.completed == kTotal);
  CHECK(stats.good == kTotal);
  CHECK(stats.max_in_flight == kWindow);
  CHECK(stats.server_requests == kTotal);
  CHECK(stats.accepted >= 1);
  CHECK(stats.accepted <= static_cast<int>(max_connections));
}

TEST_CASE("HttpClient: connections closed by the server are replaced (fd numbers get reused)",
          "[http_client]") {
  // Two connections, each closed by the server after one response. When both responses arrive in the same
  // loop iteration, curl closes the first socket and connects a queued transfer while handling the second:
  // the new socket usually gets the fd number just freed, whose old uv_poll_t is still closing.
  HttpClientOptions options;
  options.max_connections = 2;
  Fixture f(options);
  constexpr int kTotal = 40;
  int completed = 0;
  int good = 0;
  for (int i = 0; i < kTotal; ++i) {
    f.client->Send(Post(f.Url("/close")), [&](HttpResponse&& r) {
      ++completed;
      if (r.transport_ok() && r.status == 200 && r.body == "bye") ++good;
      if (completed == kTotal) f.CloseAll();
    });
  }
  CHECK(f.client->in_flight() == kTotal);
  REQUIRE(f.Run());
  CHECK(completed == kTotal);
  CHECK(good == kTotal);
  CHECK(f.server->accepted() == kTotal);
  REQUIRE(f.Finish() == 0);
}

TEST_CASE("HttpClient: a 500 is an HTTP response, not a transport error", "[http_client]") {
  Fixture f;
  std::optional<HttpResponse> got;
  f.client->Send(Post(f.Url("/status/500"), "x"), [&](HttpResponse&& r) {
    got = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->status == 500);
  CHECK(got->transport_ok());
  CHECK(got->body == "boom");
  CHECK(HeaderOf(*got, "content-type") == "text/plain");
}

TEST_CASE("HttpClient: headers come from the final response, not from a 1xx", "[http_client]") {
  Fixture f;
  std::optional<HttpResponse> got;
  f.client->Send(Post(f.Url("/interim"), "x"), [&](HttpResponse&& r) {
    got = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->status == 201);
  CHECK(got->body == "done");
  CHECK(got->header("x-interim") == nullptr);
  CHECK(HeaderOf(*got, "x-final") == "yes");
  CHECK(got->headers.size() == 2);  // x-final, content-length
}

TEST_CASE("HttpClient: connection refused is a transport error", "[http_client]") {
  Fixture f;
  // A socket bound to a port but not listening: connecting to it is refused, and the port stays reserved
  // (nobody else can start listening there) until the test closes it.
  uv_tcp_t reserved;
  uv_tcp_init(&f.loop, &reserved);
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", 0, &addr);
  REQUIRE(uv_tcp_bind(&reserved, reinterpret_cast<const sockaddr*>(&addr), 0) == 0);
  const int port = BoundPort(&reserved);
  REQUIRE(port > 0);

  std::optional<HttpResponse> got;
  HttpRequest req = Post("http://127.0.0.1:" + std::to_string(port) + "/echo", "x");
  f.client->Send(std::move(req), [&](HttpResponse&& r) {
    got = std::move(r);
    uv_close(reinterpret_cast<uv_handle_t*>(&reserved), nullptr);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  CHECK(f.server->requests() == 0);
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->status == 0);
  CHECK_FALSE(got->transport_ok());
  CHECK_THAT(got->transport_error, Catch::Contains("127.0.0.1:" + std::to_string(port)));
  CHECK(got->headers.empty());
  CHECK(got->body.empty());
}

TEST_CASE("HttpClient: a server that never answers times out after timeout_ms", "[http_client]") {
  Fixture f;
  std::optional<HttpResponse> got;
  double elapsed_ms = 0;
  HttpRequest req = Post(f.Url("/hang"), "x");
  req.timeout_ms = 300;
  const std::uint64_t start = uv_hrtime();
  f.client->Send(std::move(req), [&](HttpResponse&& r) {
    elapsed_ms = static_cast<double>(uv_hrtime() - start) / 1e6;
    got = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  CHECK(f.server->requests() == 1);  // it timed out waiting for the answer, not for the connection
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->status == 0);
  CHECK_FALSE(got->transport_ok());
  CHECK_THAT(got->transport_error, Catch::Contains("timed out"));
  CHECK_THAT(got->transport_error, Catch::Contains("127.0.0.1"));
  CHECK(elapsed_ms >= 290);
  CHECK(elapsed_ms < 2000);
}

TEST_CASE("HttpClient: Cancel() aborts one transfer and the others go on", "[http_client]") {
  Fixture f;
  std::optional<HttpResponse> cancelled, other;
  bool inside_cancel = false;
  bool ran_inside_cancel = false;
  HttpClient::RequestId hung = f.client->Send(Post(f.Url("/hang"), "x"), [&](HttpResponse&& r) {
    ran_inside_cancel = inside_cancel;
    cancelled = std::move(r);
  });
  // Once the hung request has reached the server, cancel it; the client keeps serving the other one.
  f.server->on_request = [&](const ServerRequest& req) {
    if (req.target != "/hang") return;
    inside_cancel = true;
    f.client->Cancel(hung);
    inside_cancel = false;
    f.client->Cancel(hung);  // twice: ignored
    f.client->Send(Post(f.Url("/echo"), "after"), [&](HttpResponse&& r) {
      other = std::move(r);
      f.CloseAll();
    });
  };
  REQUIRE(f.Run());
  REQUIRE(f.Finish() == 0);
  REQUIRE(cancelled.has_value());
  CHECK_FALSE(ran_inside_cancel);
  CHECK(cancelled->transport_error == "aborted");
  REQUIRE(other.has_value());
  CHECK(other->status == 200);
  CHECK(other->body == "after");
}

TEST_CASE("HttpClient: Cancel() of a finished or unknown request changes nothing", "[http_client]") {
  Fixture f;
  std::optional<HttpResponse> got;
  HttpClient::RequestId id = 0;
  id = f.client->Send(Post(f.Url("/echo"), "x"), [&](HttpResponse&& r) {
    got = std::move(r);
    f.client->Cancel(id);  // inside its own callback: already finished
    f.client->Cancel(id + 1000);
    f.CloseAll();
  });
  CHECK(id != 0);
  REQUIRE(f.Run());
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->status == 200);
}

TEST_CASE("HttpClient: Close() aborts transfers in flight, then closes every handle", "[http_client]") {
  Fixture f;
  std::vector<std::string> events;
  std::optional<HttpResponse> aborted;
  std::optional<HttpResponse> late;
  bool inside_late_send = false;
  bool late_ran_inside_send = false;
  bool close_ran_inside_close = false;
  bool inside_close = false;
  std::size_t in_flight_after_close = 99;

  f.server->on_request = [&](const ServerRequest& req) {
    if (req.target != "/hang") return;
    events.push_back("server has the request");
    inside_close = true;
    f.client->Close([&] {
      close_ran_inside_close = inside_close;
      in_flight_after_close = f.client->in_flight();
      events.push_back("on_closed");
      f.server->Close();
    });
    inside_close = false;
    // A Send() after Close() fails, asynchronously too.
    inside_late_send = true;
    f.client->Send(Post(f.Url("/echo"), "late"), [&](HttpResponse&& r) {
      late_ran_inside_send = inside_late_send;
      events.push_back("late callback");
      late = std::move(r);
    });
    inside_late_send = false;
  };
  HttpRequest req = Post(f.Url("/hang"), "x");
  req.timeout_ms = 10000;
  f.client->Send(std::move(req), [&](HttpResponse&& r) {
    CHECK_FALSE(inside_close);
    events.push_back("aborted callback");
    aborted = std::move(r);
  });
  REQUIRE(f.Run());
  CHECK(f.server->requests() == 1);
  REQUIRE(f.Finish() == 0);  // uv_run returned and no handle is left

  REQUIRE(aborted.has_value());
  CHECK(aborted->status == 0);
  CHECK(aborted->transport_error == "aborted");
  CHECK_FALSE(close_ran_inside_close);
  CHECK(in_flight_after_close == 0);
  REQUIRE(late.has_value());
  CHECK_FALSE(late_ran_inside_send);
  CHECK(late->status == 0);
  CHECK(late->transport_error == "client closed");
  REQUIRE(events.size() == 4);
  CHECK(events.front() == "server has the request");
  const auto index = [&](std::string_view e) {
    return std::find(events.begin(), events.end(), e) - events.begin();
  };
  CHECK(index("aborted callback") < index("on_closed"));
  CHECK(index("late callback") < static_cast<std::ptrdiff_t>(events.size()));
}

TEST_CASE("HttpClient: bad requests fail through the callback, never inside Send", "[http_client]") {
  Fixture f;
  std::vector<HttpResponse> got;
  bool inside_send = false;
  bool any_inside_send = false;
  constexpr std::size_t kCount = 5;
  auto send = [&](HttpRequest req) {
    inside_send = true;
    f.client->Send(std::move(req), [&](HttpResponse&& r) {
      any_inside_send = any_inside_send || inside_send;
      got.push_back(std::move(r));
      if (got.size() == kCount) f.CloseAll();
    });
    inside_send = false;
  };
  send(Post("ftp://127.0.0.1/file"));
  send(Post("not a url"));
  HttpRequest injected = Post(f.Url("/echo"));
  injected.headers = {{"X-Test", "a\r\nX-Injected: 1"}};
  send(std::move(injected));
  HttpRequest bad_name = Post(f.Url("/echo"));
  bad_name.headers = {{"X Test", "a"}};
  send(std::move(bad_name));
  HttpRequest bad_method = Post(f.Url("/echo"));
  bad_method.method = "GET /x HTTP/1.1\r\n";
  send(std::move(bad_method));
  CHECK(f.client->in_flight() == kCount);
  REQUIRE(f.Run());
  CHECK(f.server->requests() == 0);
  REQUIRE(f.Finish() == 0);
  CHECK_FALSE(any_inside_send);
  REQUIRE(got.size() == kCount);
  for (const HttpResponse& r : got) {
    CHECK(r.status == 0);
    CHECK_FALSE(r.transport_ok());
  }
  CHECK_THAT(got[0].transport_error, Catch::Contains("scheme"));
}

TEST_CASE("HttpClient: https to a plain-HTTP port fails cleanly", "[http_client]") {
  Fixture f;
  std::optional<HttpResponse> got;
  HttpRequest req = Post("https://127.0.0.1:" + std::to_string(f.server->port()) + "/echo", "x");
  req.timeout_ms = 5000;
  const std::uint64_t start = uv_hrtime();
  double elapsed_ms = 0;
  f.client->Send(std::move(req), [&](HttpResponse&& r) {
    elapsed_ms = static_cast<double>(uv_hrtime() - start) / 1e6;
    got = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  CHECK(f.server->accepted() == 1);
  CHECK(f.server->requests() == 0);
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->status == 0);
  CHECK_FALSE(got->transport_ok());
  CHECK_THAT(got->transport_error, Catch::Contains("127.0.0.1"));
  CHECK(elapsed_ms < 4000);  // a TLS failure, not the timeout
}

// Sets environment variables for one test and restores them at its end. The client must never read them.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, old] : saved_) {
      if (old) {
        ::setenv(name.c_str(), old->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A second client on a Fixture's loop. Like the Fixture, it is leaked when a REQUIRE fails with its
// handles still open, rather than destroyed under the loop (which aborts).
class ExtraClient {
 public:
  ExtraClient(uv_loop_t* loop, HttpClientOptions options)
      : client_(std::make_unique<HttpClient>(loop, std::move(options))) {}
  ~ExtraClient() { (void)client_.release(); }
  ExtraClient(const ExtraClient&) = delete;
  ExtraClient& operator=(const ExtraClient&) = delete;
  HttpClient* operator->() const { return client_.get(); }
  void Destroy() { client_.reset(); }

 private:
  std::unique_ptr<HttpClient> client_;
};

// Port 1 (tcpmux) is closed on any machine these tests run on: a proxy there refuses every connection.
constexpr char kDeadProxy[] = "http://127.0.0.1:1";

TEST_CASE("HttpClient: http:// URLs go through http_proxy, never https_proxy", "[http_client][proxy]") {
  // The fixture's client has only an https proxy, so its http:// requests go direct.
  HttpClientOptions https_only;
  https_only.https_proxy = kDeadProxy;
  Fixture f(https_only);
  std::optional<HttpResponse> got;
  std::optional<HttpResponse> direct;
  // A second client, with the server as its http proxy.
  HttpClientOptions proxied;
  proxied.http_proxy = "http://127.0.0.1:" + std::to_string(f.server->port());
  proxied.https_proxy = kDeadProxy;
  // The target's name never resolves: only the proxy (the local server) can answer.
  ExtraClient client(&f.loop, proxied);
  client->Send(Post("http://ferry-proxy-test.invalid/put?x=1", "payload"), [&](HttpResponse&& r) {
    got = std::move(r);
    f.client->Send(Post(f.Url("/echo"), "direct"), [&](HttpResponse&& r2) {
      direct = std::move(r2);
      client->Close([&] { f.CloseAll(); });
    });
  });
  REQUIRE(f.Run());
  client.Destroy();
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->transport_error == "");
  CHECK(got->status == 200);
  CHECK(HeaderOf(*got, "x-proxied-target") == "http://ferry-proxy-test.invalid/put?x=1");
  CHECK(got->body == "via proxy");
  REQUIRE(direct.has_value());
  CHECK(direct->transport_error == "");
  CHECK(direct->status == 200);
  CHECK(direct->body == "direct");
}

TEST_CASE("HttpClient: https:// URLs are tunnelled through https_proxy with CONNECT",
          "[http_client][proxy]") {
  Fixture f;
  std::string method;
  std::string target;
  f.server->on_request = [&](const ServerRequest& req) {
    method = req.method;
    target = req.target;
  };
  HttpClientOptions proxied;
  proxied.https_proxy = "http://127.0.0.1:" + std::to_string(f.server->port());
  proxied.http_proxy = kDeadProxy;
  ExtraClient client(&f.loop, proxied);
  std::optional<HttpResponse> got;
  client->Send(Post("https://ferry-proxy-test.invalid:8443/", "x"), [&](HttpResponse&& r) {
    got = std::move(r);
    client->Close([&] { f.CloseAll(); });
  });
  REQUIRE(f.Run());
  client.Destroy();
  REQUIRE(f.Finish() == 0);
  CHECK(method == "CONNECT");
  CHECK(target == "ferry-proxy-test.invalid:8443");
  REQUIRE(got.has_value());
  // The "proxy" refused the tunnel (404): a transport error, and its status is not taken for the server's.
  CHECK(got->status == 0);
  CHECK_THAT(got->transport_error, Catch::Contains("ferry-proxy-test.invalid:8443"));
  CHECK_THAT(got->transport_error, Catch::Contains("404"));
}

TEST_CASE("HttpClient: no_proxy hosts go direct, and proxy variables of the process are ignored",
          "[http_client][proxy]") {
  const ScopedEnv env({{"http_proxy", kDeadProxy},
                       {"HTTPS_PROXY", kDeadProxy},
                       {"ALL_PROXY", kDeadProxy},
                       {"all_proxy", kDeadProxy},
                       {"no_proxy", "example.invalid"},
                       {"NO_PROXY", "example.invalid"}});
  HttpClientOptions options;
  SECTION("no proxy configured") {}
  SECTION("a proxy configured, the host in no_proxy") {
    options.http_proxy = kDeadProxy;
    options.no_proxy = "example.invalid, 127.0.0.1";
  }
  Fixture f(options);
  std::optional<HttpResponse> got;
  f.client->Send(Post(f.Url("/echo"), "direct"), [&](HttpResponse&& r) {
    got = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->transport_error == "");
  CHECK(got->status == 200);
  CHECK(got->body == "direct");
}

TEST_CASE("HttpClient: a proxy that refuses connections is a transport error naming it",
          "[http_client][proxy]") {
  HttpClientOptions options;
  options.http_proxy = kDeadProxy;
  Fixture f(options);
  const int port = f.server->port();
  std::optional<HttpResponse> got;
  f.client->Send(Post(f.Url("/echo"), "x"), [&](HttpResponse&& r) {
    got = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  CHECK(f.server->requests() == 0);
  REQUIRE(f.Finish() == 0);
  REQUIRE(got.has_value());
  CHECK(got->status == 0);
  // Named after the URL's host, with curl's message naming the proxy.
  CHECK_THAT(got->transport_error, Catch::StartsWith("127.0.0.1:" + std::to_string(port) + ": "));
  CHECK_THAT(got->transport_error, Catch::Contains("port 1"));
}

TEST_CASE("HttpClient: the client's timeouts apply to requests that set none of their own", "[http_client]") {
  HttpClientOptions options;
  options.request_timeout_ms = 300;
  Fixture f(options);
  std::optional<HttpResponse> defaulted;
  std::optional<HttpResponse> overridden;
  double defaulted_ms = 0;
  double overridden_ms = 0;
  std::uint64_t start = uv_hrtime();
  f.client->Send(Post(f.Url("/hang"), "x"), [&](HttpResponse&& r) {
    defaulted_ms = static_cast<double>(uv_hrtime() - start) / 1e6;
    defaulted = std::move(r);
    HttpRequest req = Post(f.Url("/hang"), "x");
    req.timeout_ms = 1200;  // longer than the client's: the request's own wins
    start = uv_hrtime();
    f.client->Send(std::move(req), [&](HttpResponse&& r2) {
      overridden_ms = static_cast<double>(uv_hrtime() - start) / 1e6;
      overridden = std::move(r2);
      f.CloseAll();
    });
  });
  REQUIRE(f.Run());
  REQUIRE(f.Finish() == 0);
  REQUIRE(defaulted.has_value());
  CHECK_THAT(defaulted->transport_error, Catch::Contains("timed out"));
  CHECK(defaulted_ms >= 290);
  CHECK(defaulted_ms < 1100);
  REQUIRE(overridden.has_value());
  CHECK_THAT(overridden->transport_error, Catch::Contains("timed out"));
  CHECK(overridden_ms >= 1190);
  CHECK(overridden_ms < 3000);
}

TEST_CASE("HttpClient: an unused client needs no Close, and Close completes asynchronously",
          "[http_client]") {
  EnsureCurlGlobalInit();
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  { HttpClient unused(&loop, HttpClientOptions{}); }
  bool closed = false;
  bool inside_close = false;
  bool ran_inside_close = false;
  {
    HttpClient client(&loop, HttpClientOptions{});
    inside_close = true;
    client.Close([&] {
      ran_inside_close = inside_close;
      closed = true;
    });
    inside_close = false;
    CHECK_FALSE(closed);
    CHECK(RunLoop(&loop));
  }
  CHECK(closed);
  CHECK_FALSE(ran_inside_close);
  REQUIRE(uv_loop_close(&loop) == 0);
}

// ---------------------------------------------------------------------------------------------------------
// Bounded answers: no endpoint can make the client hold more than a request's max_response_bytes.

struct Received {
  std::optional<HttpResponse> response;
  std::size_t counted = 0;  // what on_body_bytes reported
};

HttpRequest CountedGet(std::string url, Received& out, std::size_t max_bytes) {
  HttpRequest req;
  req.url = std::move(url);
  req.method = "GET";
  req.max_response_bytes = max_bytes;
  req.on_body_bytes = [&out](std::size_t n) { out.counted += n; };
  return req;
}

TEST_CASE("HttpClient: an endless body is cut at max_response_bytes and fails as too large",
          "[http_client]") {
  std::signal(SIGPIPE, SIG_IGN);  // as ferry's main does: the server writes on after the client hangs up
  Fixture f;
  Received got;
  f.client->Send(CountedGet(f.Url("/endless"), got, std::size_t{1} << 20), [&](HttpResponse&& r) {
    got.response = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  REQUIRE(got.response);
  CHECK(got.response->status == 0);
  CHECK(got.response->failure == ferry::net::TransportFailure::kResponseTooLarge);
  CHECK_THAT(got.response->transport_error,
             Catch::Contains("body is larger than 1048576 bytes, the most this request reads"));
  CHECK(got.response->body.size() <= (std::size_t{1} << 20));
  CHECK(got.counted <= (std::size_t{1} << 20));
  CHECK(got.counted > 0);
  CHECK(f.Finish() == 0);
}

TEST_CASE("HttpClient: a Content-Length over the limit fails before the body is read", "[http_client]") {
  std::signal(SIGPIPE, SIG_IGN);
  Fixture f;
  Received got;
  f.client->Send(CountedGet(f.Url("/bytes/300000"), got, 100000), [&](HttpResponse&& r) {
    got.response = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  REQUIRE(got.response);
  CHECK(got.response->failure == ferry::net::TransportFailure::kResponseTooLarge);
  CHECK(got.counted == 0);
  CHECK(f.Finish() == 0);
}

TEST_CASE("HttpClient: an answer within the limit arrives whole and is counted as it arrives",
          "[http_client]") {
  std::signal(SIGPIPE, SIG_IGN);
  HttpClientOptions options;
  options.max_response_bytes = 50000;  // the default of requests that set none
  Fixture f(options);
  Received exact, over;
  int done = 0;
  auto finish = [&] {
    if (++done == 2) f.CloseAll();
  };
  f.client->Send(CountedGet(f.Url("/bytes/50000"), exact, 0), [&](HttpResponse&& r) {
    exact.response = std::move(r);
    finish();
  });
  f.client->Send(CountedGet(f.Url("/bytes/50001"), over, 0), [&](HttpResponse&& r) {
    over.response = std::move(r);
    finish();
  });
  REQUIRE(f.Run());
  REQUIRE(exact.response);
  CHECK(exact.response->status == 200);
  CHECK(exact.response->failure == ferry::net::TransportFailure::kNone);
  CHECK(exact.response->body.size() == 50000);
  CHECK(exact.counted == 50000);
  REQUIRE(over.response);
  CHECK(over.response->failure == ferry::net::TransportFailure::kResponseTooLarge);
  CHECK(f.Finish() == 0);
}

TEST_CASE("HttpClient: endless headers are cut too", "[http_client]") {
  std::signal(SIGPIPE, SIG_IGN);
  Fixture f;
  std::optional<HttpResponse> got;
  HttpRequest req;
  req.url = f.Url("/endless-headers");
  req.method = "GET";
  f.client->Send(std::move(req), [&](HttpResponse&& r) {
    got = std::move(r);
    f.CloseAll();
  });
  REQUIRE(f.Run());
  REQUIRE(got);
  CHECK(got->status == 0);
  CHECK(got->failure == ferry::net::TransportFailure::kResponseTooLarge);
  CHECK(got->headers.size() <= ferry::net::kMaxResponseHeaderBytes / 1000);
  CHECK(f.Finish() == 0);
}

}  // namespace
