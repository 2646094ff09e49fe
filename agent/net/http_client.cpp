// HttpClient implementation: curl multi (socket API) on a libuv loop. See http_client.h. This file holds
// requests, the easy-handle pool and shutdown; http_client_events.cpp the callbacks that drive transfers.
//
// Thread rules: everything here runs on the loop thread. Control flow:
//   curl asks for sockets/timeouts  -> OnCurlSocket (uv_poll_t per socket) / OnCurlTimer (one uv_timer_t)
//   libuv reports readiness/timeout -> OnPoll / OnTimer -> Drive(): curl_multi_socket_action + Harvest()
//   Harvest(): curl_multi_info_read -> finished transfers become Completions in a queue
//   OnDispatch (uv_idle_t)          -> runs the queued user callbacks
// User callbacks run only from OnDispatch (or a detached handle after Close), never while curl is on the
// stack, so they may freely call Send() and Close().
#include "agent/net/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "agent/net/http_client_impl.h"
#include "agent/net/http_text.h"

namespace ferry::net {

const std::string* HttpResponse::header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return &value;
  }
  return nullptr;
}

namespace {

constexpr char kAborted[] = "aborted";
constexpr char kClientClosed[] = "client closed";

// Delivers one completion from a uv_idle_t that owns itself: used for Send() after Close(), when the
// client's own handles may already be gone (and the client itself may be destroyed before it runs).
struct DetachedCompletion {
  uv_idle_t idle;
  Completion completion;
};

void PostDetached(uv_loop_t* loop, Completion completion) {
  auto* d = new DetachedCompletion{{}, std::move(completion)};
  uv_idle_init(loop, &d->idle);
  d->idle.data = d;
  uv_idle_start(&d->idle, [](uv_idle_t* handle) noexcept {
    auto* self = static_cast<DetachedCompletion*>(handle->data);
    uv_idle_stop(handle);
    Completion c = std::move(self->completion);
    // By hand, not with CloseHandle (core/uv_handle.h): a noexcept callback must not allocate.
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) noexcept { delete static_cast<DetachedCompletion*>(h->data); });
    if (c.done) c.done(std::move(c.response));
  });
}

}  // namespace

HttpClient::Impl::Impl(uv_loop_t* loop, HttpClientOptions options)
    : loop_(loop),
      options_(std::move(options)),
      pool_limit_(std::max<std::size_t>(16, 2 * options_.max_connections)) {
  multi_ = curl_multi_init();
  if (multi_ != nullptr) {
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION,
                      static_cast<curl_socket_callback>(&Impl::OnCurlSocket));
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION,
                      static_cast<curl_multi_timer_callback>(&Impl::OnCurlTimer));
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, static_cast<void*>(this));
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
    if (options_.max_connections > 0) {
      const long max = static_cast<long>(options_.max_connections);
      curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, max);
      curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, max);
    }
  }
  const curl_version_info_data* version = curl_version_info(CURLVERSION_NOW);
  trust_bundle_only_ =
      !options_.ca_file.empty() ||
      (version != nullptr && version->age >= CURLVERSION_SEVENTH && version->cainfo != nullptr);
  share_ = curl_share_init();
  if (share_ != nullptr) curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

HttpClient::Impl::~Impl() {
  if (loop_handles_ && !(closed_ && open_handles_ == 0)) {
    std::fprintf(stderr,
                 "ferry::net::HttpClient destroyed while it still owns libuv handles; call Close() and wait "
                 "for on_closed first\n");
    std::abort();
  }
  // Only reached with no transfer ever started, or after Close() already released everything.
  in_curl_cleanup_ = true;
  for (CURL* easy : idle_easies_) curl_easy_cleanup(easy);
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  if (share_ != nullptr) curl_share_cleanup(share_);
}

void HttpClient::Impl::EnsureLoopHandles() {
  if (loop_handles_) return;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  uv_idle_init(loop_, &dispatch_);
  dispatch_.data = this;
  loop_handles_ = true;
  open_handles_ += 2;
}

HttpClient::RequestId HttpClient::Impl::Send(HttpRequest request, Callback done) {
  const RequestId id = next_id_++;
  if (close_requested_) {
    PostDetached(loop_, Completion{std::move(done), FailedResponse(kClientClosed)});
    return id;
  }
  EnsureLoopHandles();
  ++in_flight_;
  auto t = std::make_unique<Transfer>();
  t->id = id;
  t->request = std::move(request);
  t->done = std::move(done);
  std::string error = Start(*t);
  if (!error.empty()) {
    Post(Completion{std::move(t->done), FailedResponse(std::move(error))});
    return id;
  }
  CURL* easy = t->easy;
  active_.emplace(easy, std::move(t));
  const CURLMcode rc = curl_multi_add_handle(multi_, easy);
  if (rc != CURLM_OK) {
    auto node = active_.extract(easy);
    Transfer& failed = *node.mapped();
    ReleaseEasy(easy);
    Post(Completion{std::move(failed.done), FailedResponse(failed.authority + ": cannot start transfer: " +
                                                           curl_multi_strerror(rc))});
    return id;
  }
  by_id_.emplace(id, easy);
  return id;
}

void HttpClient::Impl::Cancel(RequestId id) {
  auto found = by_id_.find(id);
  if (found == by_id_.end()) return;
  CURL* easy = found->second;
  by_id_.erase(found);
  auto node = active_.extract(easy);
  if (node.empty()) return;
  // Removing an unfinished transfer makes curl close its connection; the handle is not reused, as in
  // Close(), since it may still hold state of the cut transfer.
  curl_multi_remove_handle(multi_, easy);
  curl_easy_cleanup(easy);
  std::erase_if(socket_failures_, [easy](const auto& f) { return f.first == easy; });
  Post(Completion{std::move(node.mapped()->done), FailedResponse(kAborted)});
}

std::string HttpClient::Impl::Start(Transfer& t) {
  if (multi_ == nullptr) return "cannot start transfer: curl_multi_init failed";

  // Validate the URL and keep its host for error messages.
  CURLU* url = curl_url();
  if (url == nullptr) return "out of memory";
  std::string error;
  if (const CURLUcode uc = curl_url_set(url, CURLUPART_URL, t.request.url.c_str(), 0); uc != CURLUE_OK) {
    error = "invalid URL \"" + t.request.url + "\": " + curl_url_strerror(uc);
  } else {
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    curl_url_get(url, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(url, CURLUPART_HOST, &host, 0);
    curl_url_get(url, CURLUPART_PORT, &port, 0);  // CURLUE_NO_PORT when the URL has none
    const std::string_view s = scheme != nullptr ? scheme : "";
    if (s != "http" && s != "https") {
      error = "unsupported URL scheme in \"" + t.request.url + "\" (want http or https)";
    } else {
      t.https = s == "https";
      t.authority = host != nullptr ? host : "";
      if (port != nullptr) t.authority += std::string(":") + port;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(url);
  if (!error.empty()) return error;

  if (!IsToken(t.request.method)) return t.authority + ": invalid HTTP method \"" + t.request.method + "\"";

  t.easy = AcquireEasy();
  if (t.easy == nullptr) return t.authority + ": curl_easy_init failed";
  error = Configure(t);
  if (!error.empty()) {
    ReleaseEasy(t.easy);
    t.easy = nullptr;
    return t.authority + ": " + error;
  }
  return {};
}

std::string HttpClient::Impl::Configure(Transfer& t) {
  // Request headers. curl removes a header given as "Name:" and sends an empty one given as "Name;".
  bool has_content_type = false;
  auto append = [&t](const std::string& line) {
    curl_slist* list = curl_slist_append(t.header_list, line.c_str());
    if (list == nullptr) return false;
    t.header_list = list;
    return true;
  };
  for (const auto& [name, value] : t.request.headers) {
    if (!IsToken(name) || HasLineBreakOrNul(value)) return "invalid request header \"" + name + "\"";
    if (EqualsIgnoreCase(name, "expect") || EqualsIgnoreCase(name, "content-length")) continue;
    if (EqualsIgnoreCase(name, "content-type")) has_content_type = true;
    const std::string_view v = TrimWhitespace(value);
    if (!append(v.empty() ? name + ";" : name + ": " + std::string(v))) return "out of memory";
  }
  if (!append("Expect:")) return "out of memory";
  if (!has_content_type && !append("Content-Type:")) return "out of memory";

  CURL* easy = t.easy;
  CURLcode rc = CURLE_OK;
  const char* failed_option = "";
  auto set = [&](CURLoption option, const char* option_name, auto value) {
    if (rc != CURLE_OK) return;
    rc = curl_easy_setopt(easy, option, value);
    if (rc != CURLE_OK) failed_option = option_name;
  };
#define FERRY_SET(option, value) set(option, #option, value)
  FERRY_SET(CURLOPT_ERRORBUFFER, t.error);
  FERRY_SET(CURLOPT_URL, t.request.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
  FERRY_SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  FERRY_SET(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  FERRY_SET(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  FERRY_SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700  // 7.87.0
  // When a transfer ends (timeout, Close) while its name is still being resolved, curl's threaded resolver
  // would join the resolver thread, blocking the loop until getaddrinfo returns. With QUICK_EXIT the thread
  // is detached instead and frees its own data when getaddrinfo returns; this option changes nothing else.
  FERRY_SET(CURLOPT_QUICK_EXIT, 1L);
#endif
  FERRY_SET(CURLOPT_TCP_KEEPALIVE, 1L);
  FERRY_SET(CURLOPT_TCP_KEEPIDLE, 60L);
  FERRY_SET(CURLOPT_TCP_KEEPINTVL, 20L);
  FERRY_SET(CURLOPT_CONNECTTIMEOUT_MS,
            static_cast<long>(t.request.connect_timeout_ms.value_or(options_.connect_timeout_ms)));
  FERRY_SET(CURLOPT_TIMEOUT_MS,
            static_cast<long>(t.request.timeout_ms.value_or(options_.request_timeout_ms)));
  // Always set, even when empty: a proxy option left unset makes curl read http_proxy, HTTPS_PROXY,
  // ALL_PROXY and NO_PROXY from the process environment, and "" means "no proxy" / "no exceptions".
  FERRY_SET(CURLOPT_PROXY, (t.https ? options_.https_proxy : options_.http_proxy).c_str());
  FERRY_SET(CURLOPT_NOPROXY, options_.no_proxy.c_str());
  FERRY_SET(CURLOPT_SSL_VERIFYPEER, 1L);
  FERRY_SET(CURLOPT_SSL_VERIFYHOST, 2L);
  FERRY_SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
  FERRY_SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) {
    FERRY_SET(CURLOPT_CAINFO, options_.ca_file.c_str());
    FERRY_SET(CURLOPT_PROXY_CAINFO, options_.ca_file.c_str());
  }
  // curl keeps a parsed CA bundle for reuse (CURLOPT_CA_CACHE_TIMEOUT, 24 h) only when no CA directory is
  // configured; distribution builds often default to both, and re-parsing the bundle costs tens of ms of
  // loop time per new TLS connection. With a bundle in use, drop the directory.
  if (trust_bundle_only_) {
    FERRY_SET(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    FERRY_SET(CURLOPT_PROXY_CAPATH, static_cast<const char*>(nullptr));
  }
  if (!options_.user_agent.empty()) FERRY_SET(CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (share_ != nullptr) FERRY_SET(CURLOPT_SHARE, share_);
  FERRY_SET(CURLOPT_FOLLOWLOCATION, 0L);
  FERRY_SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  FERRY_SET(CURLOPT_HTTPHEADER, t.header_list);
  FERRY_SET(CURLOPT_HEADERFUNCTION, static_cast<curl_write_callback>(&Impl::OnHeader));
  FERRY_SET(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  FERRY_SET(CURLOPT_WRITEFUNCTION, static_cast<curl_write_callback>(&Impl::OnBody));
  FERRY_SET(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  // A Content-Length over the limit fails before the body is read; OnBody enforces it for the rest.
  t.max_body = t.request.max_response_bytes != 0 ? t.request.max_response_bytes : options_.max_response_bytes;
  FERRY_SET(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.max_body));

  const std::string& method = t.request.method;
  const std::string& body = t.request.body;
  if (method == "GET" && body.empty()) {
    FERRY_SET(CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD" && body.empty()) {
    FERRY_SET(CURLOPT_NOBODY, 1L);
  } else {
    // The body is not copied: t.request outlives the transfer.
    FERRY_SET(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    FERRY_SET(CURLOPT_POSTFIELDS, body.data());
    if (method != "POST") FERRY_SET(CURLOPT_CUSTOMREQUEST, method.c_str());
  }
#undef FERRY_SET
  if (rc != CURLE_OK) return std::string("setting ") + failed_option + " failed: " + curl_easy_strerror(rc);
  return {};
}

CURL* HttpClient::Impl::AcquireEasy() {
  if (!idle_easies_.empty()) {
    CURL* easy = idle_easies_.back();
    idle_easies_.pop_back();
    return easy;
  }
  return curl_easy_init();
}

void HttpClient::Impl::ReleaseEasy(CURL* easy) {
  // Reset drops every option (and with it pointers into the finished Transfer); connections live in the
  // multi handle and TLS sessions in share_, so nothing reusable is lost.
  curl_easy_reset(easy);
  if (idle_easies_.size() < pool_limit_) {
    idle_easies_.push_back(easy);
  } else {
    curl_easy_cleanup(easy);
  }
}

void HttpClient::Impl::Close(std::function<void()> on_closed) {
  if (close_requested_) return;
  close_requested_ = true;
  on_closed_ = std::move(on_closed);
  EnsureLoopHandles();

  // Abort what is still running. Removing an unfinished transfer makes curl close its connection.
  auto active = std::move(active_);
  active_.clear();
  by_id_.clear();
  for (auto& [easy, t] : active) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    completions_.push_back(Completion{std::move(t->done), FailedResponse(kAborted)});
  }
  active.clear();
  socket_failures_.clear();

  // Release curl: idle easy handles, then the multi handle (closes cached connections; may still call
  // OnCurlSocket/OnCurlTimer), then the share (no easy handle uses it any more).
  in_curl_cleanup_ = true;
  for (CURL* easy : idle_easies_) curl_easy_cleanup(easy);
  idle_easies_.clear();
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  multi_ = nullptr;
  if (share_ != nullptr) curl_share_cleanup(share_);
  share_ = nullptr;
  in_curl_cleanup_ = false;

  uv_timer_stop(&timer_);
  const std::vector<Socket*> sockets(sockets_.begin(), sockets_.end());
  for (Socket* socket : sockets) CloseSocket(socket);
  // OnDispatch runs the aborted callbacks, then closes timer_ and dispatch_.
  uv_idle_start(&dispatch_, &Impl::OnDispatch);
}

void HttpClient::Impl::CloseSocket(Socket* socket) {
  if (socket->closing) return;
  socket->closing = true;
  sockets_.erase(socket);
  uv_close(reinterpret_cast<uv_handle_t*>(&socket->poll), &Impl::OnSocketClosed);
}

void HttpClient::Impl::CloseLoopHandles() {
  closing_handles_ = true;
  uv_timer_stop(&timer_);
  uv_idle_stop(&dispatch_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &Impl::OnLoopHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&dispatch_), &Impl::OnLoopHandleClosed);
}

void HttpClient::Impl::MaybeFinishClose() {
  if (!closing_handles_ || open_handles_ != 0 || closed_) return;
  closed_ = true;
  std::function<void()> on_closed = std::move(on_closed_);
  on_closed_ = nullptr;
  // Last statement: on_closed may destroy the client.
  if (on_closed) on_closed();
}

HttpClient::HttpClient(uv_loop_t* loop, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(options))) {}

HttpClient::~HttpClient() = default;

HttpClient::RequestId HttpClient::Send(HttpRequest request, Callback done) {
  return impl_->Send(std::move(request), std::move(done));
}

void HttpClient::Cancel(RequestId id) {
  impl_->Cancel(id);
}

std::size_t HttpClient::in_flight() const {
  return impl_->in_flight();
}

void HttpClient::Close(std::function<void()> on_closed) {
  impl_->Close(std::move(on_closed));
}

}  // namespace ferry::net
