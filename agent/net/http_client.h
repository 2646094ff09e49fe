// HttpClient: ferry's asynchronous HTTP/1.1 client, libcurl's multi interface driven by a libuv loop
// (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION -> one uv_poll_t per socket and one uv_timer_t; progress via
// curl_multi_socket_action, completions via curl_multi_info_read). Nothing it does blocks the loop.
//
// Thread rules: an HttpClient belongs to the thread that runs its uv_loop_t. Every member function must be
// called on that thread, and every callback it runs (request callbacks, on_closed) runs there, always from
// the loop, never from inside Send() or Close().
//
// Global state: the client keeps none, and reads none: proxies, trusted CAs and timeouts come from
// HttpClientOptions only, never from the process environment (callers resolve HTTPS_PROXY and friends, see
// agent/aws/http_options.h). The caller (ferry's main, or a test) must call
// curl_global_init(CURL_GLOBAL_DEFAULT) once before constructing any client, and may call
// curl_global_cleanup() after the last client is destroyed.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::net {

struct HttpRequest {
  std::string url;  // http:// or https://; other schemes fail the request
  // An HTTP token. GET and HEAD without a body are sent as such; any other method sends `body` (possibly
  // empty) with a Content-Length.
  std::string method = "POST";
  // Sent in order. Names and values must not contain CR, LF or NUL (the request fails otherwise).
  // Content-Length (curl computes it) and Expect (never sent) are dropped. When no Content-Type is given,
  // none is sent (curl's application/x-www-form-urlencoded default is suppressed).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Unset: the client's HttpClientOptions::connect_timeout_ms / request_timeout_ms; set, this request's own.
  std::optional<std::uint32_t> connect_timeout_ms;
  std::optional<std::uint32_t> timeout_ms;  // whole transfer
  // The longest answer body read; a longer one (announced by Content-Length, or as it arrives) fails the
  // transfer with TransportFailure::kResponseTooLarge, so an endpoint that answers without end cannot
  // grow ferry's memory. 0: HttpClientOptions::max_response_bytes.
  std::size_t max_response_bytes = 0;
  // Called with the size of each piece of the answer's body as it arrives (on the loop, from inside curl:
  // it must not throw and must not call the client), so a caller can count the body in a memory budget
  // while the transfer runs. May be empty.
  std::function<void(std::size_t bytes)> on_body_bytes;
};

// Why a transfer got no answer, for callers that treat kinds differently (delivery/error_class.h).
enum class TransportFailure {
  kNone,              // an HTTP response arrived (whatever its status)
  kOther,             // connect, name resolution, reset, timeout, TLS handshake, aborted: may pass
  kUntrustedPeer,     // the peer's (or an https proxy's) certificate or host name did not verify against
                      // the trusted CAs: only the operator can fix that (aws.ca_file, the endpoint)
  kResponseTooLarge,  // the body (or the headers) passed the request's limit; the transfer was cut
};

struct HttpResponse {
  int status = 0;  // HTTP status, 0 when the transfer failed
  // Names lower-cased, values trimmed, from the final response only (1xx and proxy CONNECT responses are
  // dropped). Redirects are not followed: a 3xx is the final response.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Empty when an HTTP response arrived (whatever its status). Otherwise "host[:port]: <curl's message>"
  // (naming the proxy when it is the proxy that failed), or exactly "aborted" for transfers cancelled by
  // Close(), or "client closed" for a Send() after Close().
  std::string transport_error;
  TransportFailure failure = TransportFailure::kNone;  // kNone exactly when transport_error is empty

  bool transport_ok() const { return transport_error.empty(); }
  // The first header with that (lower-case) name, or nullptr.
  const std::string* header(std::string_view lowercase_name) const;
};

struct HttpClientOptions {
  // CURLMOPT_MAX_TOTAL_CONNECTIONS and the size of the keep-alive cache; further transfers queue inside
  // curl until a connection is free (their timeout_ms keeps running). 0 means no limit.
  std::size_t max_connections = 8;
  // PEM bundle; empty: the system store. TLS peer and host are always verified, the proxy's too when it
  // is an https:// one (against the same CAs).
  std::string ca_file;
  std::string user_agent = "ferry";
  // Proxy for requests to https:// URLs (tunnelled with CONNECT) and to http:// URLs (forwarded), as
  // "http://[user:password@]host:port" or "https://..."; empty: connect directly.
  std::string https_proxy;
  std::string http_proxy;
  // Hosts reached directly even when a proxy is set, in curl's CURLOPT_NOPROXY syntax: comma-separated
  // names (each also matching its subdomains), IP addresses or CIDR ranges; "*" means every host.
  std::string no_proxy;
  // Defaults for requests that set no timeout of their own. Connect covers TCP, the proxy's CONNECT and
  // TLS (0: curl's 300 s); request covers the whole transfer, queueing for a connection included (0: no
  // limit).
  std::uint32_t connect_timeout_ms = 10000;
  std::uint32_t request_timeout_ms = 30000;
  // Default for requests that set no max_response_bytes: far above any AWS answer ferry asks for (a
  // ListShards page of 1,000 shards is about 350 KB), far below what would hurt an edge host.
  std::size_t max_response_bytes = std::size_t{8} << 20;
};

// Response headers beyond this many bytes in all fail the transfer (kResponseTooLarge) too.
inline constexpr std::size_t kMaxResponseHeaderBytes = std::size_t{256} << 10;

// Keep-alive connections, TLS sessions and curl easy handles are reused across requests. HTTP/1.1 only.
// The proxy of each request is chosen by its URL's scheme and the no_proxy list of HttpClientOptions.
//
// Loop time it may still take: the first TLS connection of a client parses the CA bundle (tens of ms for a
// system bundle; then cached for 24 h, which is why no CA directory is used when a bundle is known). Name
// resolution needs a libcurl with an asynchronous resolver (curl_version_info: CURL_VERSION_ASYNCHDNS);
// with a synchronous one, every new host name lookup blocks the loop.
class HttpClient {
 public:
  // `loop` must outlive the client. No libuv handle is created before the first Send() or Close().
  HttpClient(uv_loop_t* loop, HttpClientOptions options);
  // Requires Close() to have completed (on_closed ran), or no Send()/Close() ever called; otherwise libuv
  // handles would dangle, so the destructor reports the misuse and aborts.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Must not throw: it runs from a libuv callback.
  using Callback = std::function<void(HttpResponse&&)>;

  // Names one Send() for Cancel(); never 0.
  using RequestId = std::uint64_t;

  // Starts a transfer. The callback runs exactly once, on the loop, never synchronously inside Send.
  // Callbacks may call Send() and Close(). Bad input (URL, method, headers) is reported through the
  // callback as a transport_error, like any other failure.
  RequestId Send(HttpRequest request, Callback done);

  // Aborts one transfer: its callback runs (from the loop, never inside Cancel) with transport_error
  // "aborted", and its connection is closed. The other transfers go on: a stage can stop its own requests
  // while the client serves everyone else. A request that has finished (its callback ran or is due) is
  // left alone; an unknown id is ignored.
  void Cancel(RequestId id);

  // Send() calls (before Close()) whose callback has not started yet.
  std::size_t in_flight() const;

  // Aborts transfers still running (their callbacks run with transport_error "aborted"), then closes every
  // libuv handle it owns; on_closed runs once all handles are closed (the client may be destroyed from
  // on_closed). Call it once: later calls are ignored and their on_closed never runs. A Send() after
  // Close() fails with "client closed" (still asynchronously, from a handle of its own).
  void Close(std::function<void()> on_closed);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::net
