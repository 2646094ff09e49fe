// HttpClient events: the curl socket and timer callbacks that put curl's sockets and timeout on the loop,
// the libuv callbacks that hand readiness back to curl, and the harvest that turns finished transfers
// into completions, delivered from the dispatch idle handle (never while curl is on the stack).
#include <algorithm>
#include <string>

#include "agent/net/http_client_impl.h"
#include "agent/net/http_text.h"

namespace ferry::net {

void HttpClient::Impl::Drive(curl_socket_t fd, int ev_bitmask) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, ev_bitmask, &running);
  Harvest();
}

void HttpClient::Impl::Harvest() {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    // msg is invalidated by curl_multi_remove_handle: copy what is needed first.
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    Finish(easy, code, {});
  }
  while (!socket_failures_.empty()) {
    auto failure = std::move(socket_failures_.back());
    socket_failures_.pop_back();
    Finish(failure.first, CURLE_COULDNT_CONNECT, std::move(failure.second));
  }
}

namespace {

// curl's verdicts that no retry can change: the certificate chain or the host name did not verify.
TransportFailure FailureOf(CURLcode code) {
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:  // untrusted chain, expired, wrong host name
    case CURLE_SSL_CACERT_BADFILE:        // the CA bundle cannot be read
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return TransportFailure::kUntrustedPeer;
    default:
      return TransportFailure::kOther;
  }
}

}  // namespace

void HttpClient::Impl::Finish(CURL* easy, CURLcode code, std::string error_override) {
  auto node = active_.extract(easy);
  if (node.empty()) return;
  Transfer& t = *node.mapped();
  by_id_.erase(t.id);
  curl_multi_remove_handle(multi_, easy);

  HttpResponse response = std::move(t.response);
  long status = 0;
  if (code == CURLE_OK && error_override.empty()) {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 0) error_override = "no HTTP status received";
  }
  if (status > 0) {
    response.status = static_cast<int>(status);
  } else {
    TransportFailure failure = FailureOf(code);
    std::string detail = std::move(error_override);
    if (t.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      failure = TransportFailure::kResponseTooLarge;
      detail = t.header_bytes > kMaxResponseHeaderBytes
                   ? "the answer's headers are larger than " + std::to_string(kMaxResponseHeaderBytes) +
                         " bytes; the transfer was cut"
                   : "the answer's body is larger than " + std::to_string(t.max_body) +
                         " bytes, the most this request reads; the transfer was cut";
    }
    if (detail.empty()) detail = std::string(TrimWhitespace(t.error));
    if (detail.empty()) detail = curl_easy_strerror(code);
    response = FailedResponse(t.authority + ": " + detail, failure);
  }
  ReleaseEasy(easy);
  Post(Completion{std::move(t.done), std::move(response)});
}

void HttpClient::Impl::Post(Completion completion) {
  completions_.push_back(std::move(completion));
  uv_idle_start(&dispatch_, &Impl::OnDispatch);
}

int HttpClient::Impl::OnCurlSocket(CURL* easy, curl_socket_t fd, int what, void* userp,
                                   void* socketp) noexcept {
  auto* self = static_cast<Impl*>(userp);
  auto* socket = static_cast<Socket*>(socketp);
  if (what == CURL_POLL_REMOVE) {
    if (socket != nullptr) {
      curl_multi_assign(self->multi_, fd, nullptr);
      self->CloseSocket(socket);
    }
    return 0;
  }
  if (self->in_curl_cleanup_ || !self->loop_handles_) return 0;

  // Never return -1 here: curl would then fail every transfer of the multi handle. A socket that cannot be
  // watched fails only its own transfer, once curl has returned (see Harvest).
  if (socket == nullptr) {
    socket = new Socket;
    const int err = uv_poll_init_socket(self->loop_, &socket->poll, fd);
    if (err != 0) {
      delete socket;
      self->socket_failures_.emplace_back(easy, std::string("cannot watch socket: ") + uv_strerror(err));
      return 0;
    }
    socket->poll.data = socket;
    socket->owner = self;
    socket->fd = fd;
    ++self->open_handles_;
    self->sockets_.insert(socket);
    curl_multi_assign(self->multi_, fd, socket);
  }
  int events = 0;
  if ((what & CURL_POLL_IN) != 0) events |= UV_READABLE;
  if ((what & CURL_POLL_OUT) != 0) events |= UV_WRITABLE;
  socket->events = events;
  const int err =
      events != 0 ? uv_poll_start(&socket->poll, events, &Impl::OnPoll) : uv_poll_stop(&socket->poll);
  if (err != 0)
    self->socket_failures_.emplace_back(easy, std::string("cannot watch socket: ") + uv_strerror(err));
  return 0;
}

int HttpClient::Impl::OnCurlTimer(CURLM* /*multi*/, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<Impl*>(userp);
  if (!self->loop_handles_ || self->closing_handles_) return 0;
  if (timeout_ms < 0) {
    uv_timer_stop(&self->timer_);
  } else {
    // Even a 0 timeout goes through the loop: curl must not be re-entered from its own callback.
    uv_timer_start(&self->timer_, &Impl::OnTimer, static_cast<std::uint64_t>(timeout_ms), 0);
  }
  return 0;
}

size_t HttpClient::Impl::OnHeader(char* data, size_t size, size_t count, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  const size_t length = size * count;
  t->header_bytes += length;
  if (t->header_bytes > kMaxResponseHeaderBytes) {
    t->too_large = true;
    return 0;  // curl fails the transfer with CURLE_WRITE_ERROR
  }
  try {
    std::string_view line(data, length);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    auto& headers = t->response.headers;
    if (line.starts_with("HTTP/")) {
      // A new status line: whatever came before belonged to an interim (1xx) or proxy response.
      headers.clear();
      t->response.body.clear();
    } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      // Obsolete line folding: continuation of the previous header's value.
      const std::string_view more = TrimWhitespace(line);
      if (!headers.empty() && !more.empty()) {
        std::string& value = headers.back().second;
        if (!value.empty()) value += ' ';
        value += more;
      }
    } else if (const size_t colon = line.find(':'); colon != line.npos && colon > 0) {
      std::string name(TrimWhitespace(line.substr(0, colon)));
      std::transform(name.begin(), name.end(), name.begin(), AsciiLower);
      headers.emplace_back(std::move(name), std::string(TrimWhitespace(line.substr(colon + 1))));
    }
  } catch (...) {
    return 0;  // out of memory: curl fails the transfer with CURLE_WRITE_ERROR
  }
  return length;
}

size_t HttpClient::Impl::OnBody(char* data, size_t size, size_t count, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  const size_t length = size * count;
  if (length > t->max_body - std::min(t->max_body, t->response.body.size())) {
    t->too_large = true;
    return 0;  // curl fails the transfer with CURLE_WRITE_ERROR
  }
  try {
    t->response.body.append(data, length);
    if (t->request.on_body_bytes) t->request.on_body_bytes(length);
  } catch (...) {
    return 0;
  }
  return length;
}

void HttpClient::Impl::OnPoll(uv_poll_t* handle, int status, int events) noexcept {
  auto* socket = static_cast<Socket*>(handle->data);
  Impl* self = socket->owner;
  if (self->multi_ == nullptr) return;
  int flags = 0;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    if ((events & UV_READABLE) != 0) flags |= CURL_CSELECT_IN;
    if ((events & UV_WRITABLE) != 0) flags |= CURL_CSELECT_OUT;
  }
  self->Drive(socket->fd, flags);
  // On an error libuv stops the handle. If curl keeps the socket without asking for new events, keep
  // watching what it asked for last, or its transfer would stall. (socket is only freed by its close
  // callback, which cannot have run yet.)
  if (status < 0 && !socket->closing && socket->events != 0 && self->multi_ != nullptr) {
    uv_poll_start(&socket->poll, socket->events, &Impl::OnPoll);
  }
}

void HttpClient::Impl::OnTimer(uv_timer_t* handle) noexcept {
  auto* self = static_cast<Impl*>(handle->data);
  if (self->multi_ == nullptr) return;
  self->Drive(CURL_SOCKET_TIMEOUT, 0);
}

void HttpClient::Impl::OnDispatch(uv_idle_t* handle) noexcept {
  auto* self = static_cast<Impl*>(handle->data);
  // Completions posted by these callbacks (a failing Send, Close's aborts) wait for the next round, so a
  // callback that keeps re-sending cannot starve the loop.
  std::deque<Completion> batch;
  batch.swap(self->completions_);
  for (Completion& c : batch) {
    --self->in_flight_;
    if (c.done) c.done(std::move(c.response));
  }
  if (!self->completions_.empty()) return;
  uv_idle_stop(handle);
  if (self->close_requested_ && !self->closing_handles_) self->CloseLoopHandles();
}

void HttpClient::Impl::OnLoopHandleClosed(uv_handle_t* handle) noexcept {
  auto* self = static_cast<Impl*>(handle->data);
  --self->open_handles_;
  self->MaybeFinishClose();
}

void HttpClient::Impl::OnSocketClosed(uv_handle_t* handle) noexcept {
  auto* socket = static_cast<Socket*>(handle->data);
  Impl* self = socket->owner;
  delete socket;
  --self->open_handles_;
  self->MaybeFinishClose();
}

}  // namespace ferry::net
