// HttpClient::Impl: the curl multi handle on a libuv loop behind HttpClient. Shared, inside agent/net only,
// by http_client.cpp (requests, the easy-handle pool, shutdown) and http_client_events.cpp (the curl and
// libuv callbacks that drive transfers and turn finished ones into completions). See http_client.cpp for
// the control flow.
#pragma once

#include <curl/curl.h>
#include <uv.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "agent/net/http_client.h"

namespace ferry::net {

struct Completion {
  HttpClient::Callback done;
  HttpResponse response;
};

inline HttpResponse FailedResponse(std::string error, TransportFailure failure = TransportFailure::kOther) {
  HttpResponse r;
  r.transport_error = std::move(error);
  r.failure = failure;
  return r;
}

class HttpClient::Impl {
 public:
  Impl(uv_loop_t* loop, HttpClientOptions options);
  ~Impl();

  RequestId Send(HttpRequest request, Callback done);
  void Cancel(RequestId id);
  std::size_t in_flight() const { return in_flight_; }
  void Close(std::function<void()> on_closed);

 private:
  // One Send() between Send and the moment its easy handle leaves the multi handle.
  struct Transfer {
    CURL* easy = nullptr;
    RequestId id = 0;
    HttpRequest request;
    Callback done;
    HttpResponse response;
    curl_slist* header_list = nullptr;
    std::string authority;         // host[:port] of the URL, for error messages
    bool https = false;            // the URL's scheme, which picks the proxy
    std::size_t max_body = 0;      // the request's max_response_bytes, or the client's
    std::size_t header_bytes = 0;  // received so far, against kMaxResponseHeaderBytes
    bool too_large = false;        // the body or the headers passed their limit; the transfer was cut
    char error[CURL_ERROR_SIZE] = {};

    ~Transfer() { curl_slist_free_all(header_list); }
  };

  // The uv_poll_t watching one curl socket. Assigned to the socket with curl_multi_assign; freed in its
  // close callback, so it may outlive curl's socket (whose fd number curl may reuse meanwhile).
  struct Socket {
    uv_poll_t poll;
    Impl* owner = nullptr;
    curl_socket_t fd = CURL_SOCKET_BAD;
    int events = 0;  // UV_READABLE | UV_WRITABLE last asked for
    bool closing = false;
  };

  // curl callbacks.
  static int OnCurlSocket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp) noexcept;
  static int OnCurlTimer(CURLM* multi, long timeout_ms, void* userp) noexcept;
  static size_t OnHeader(char* data, size_t size, size_t count, void* userp) noexcept;
  static size_t OnBody(char* data, size_t size, size_t count, void* userp) noexcept;
  // libuv callbacks.
  static void OnPoll(uv_poll_t* handle, int status, int events) noexcept;
  static void OnTimer(uv_timer_t* handle) noexcept;
  static void OnDispatch(uv_idle_t* handle) noexcept;
  static void OnLoopHandleClosed(uv_handle_t* handle) noexcept;
  static void OnSocketClosed(uv_handle_t* handle) noexcept;

  void EnsureLoopHandles();
  std::string Start(Transfer& t);  // returns an error message, empty on success
  std::string Configure(Transfer& t);
  CURL* AcquireEasy();
  void ReleaseEasy(CURL* easy);
  void Drive(curl_socket_t fd, int ev_bitmask);
  void Harvest();
  void Finish(CURL* easy, CURLcode code, std::string error_override);
  void Post(Completion completion);
  void CloseSocket(Socket* socket);
  void CloseLoopHandles();
  void MaybeFinishClose();

  uv_loop_t* const loop_;
  const HttpClientOptions options_;
  const std::size_t pool_limit_;

  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;  // TLS session cache shared by all easy handles
  bool in_curl_cleanup_ = false;
  bool trust_bundle_only_ = false;  // verify against a CA bundle file only (no CA directory)

  std::vector<CURL*> idle_easies_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;
  std::unordered_map<RequestId, CURL*> by_id_;  // the transfers of active_, for Cancel
  RequestId next_id_ = 1;
  std::unordered_set<Socket*> sockets_;  // watched sockets, not yet closing
  // Transfers whose socket could not be watched; failed after the current curl call returns.
  std::vector<std::pair<CURL*, std::string>> socket_failures_;

  std::deque<Completion> completions_;
  std::size_t in_flight_ = 0;

  uv_timer_t timer_{};
  uv_idle_t dispatch_{};
  bool loop_handles_ = false;     // timer_ and dispatch_ initialized
  std::size_t open_handles_ = 0;  // libuv handles initialized whose close callback has not run
  bool close_requested_ = false;
  bool closing_handles_ = false;  // timer_ and dispatch_ closed or closing
  bool closed_ = false;           // on_closed has been (or is being) called
  std::function<void()> on_closed_;
};

}  // namespace ferry::net
