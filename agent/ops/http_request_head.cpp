// HttpRequestHead: each complete line is judged as soon as its LF arrives, so garbage is refused at its
// first line and no byte is scanned twice however the client splits its writes.
#include "agent/ops/http_request_head.h"

#include <algorithm>

namespace ferry {
namespace {

// RFC 9110 §5.6.2 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// Visible ASCII: what a request target may hold (RFC 9112 §3.2; no spaces, no controls).
bool IsTargetChar(char c) {
  return c > 0x20 && c < 0x7f;
}

// Field values: visible characters, spaces and tabs, and obs-text (bytes 0x80 and up).
bool IsFieldValueChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace

HttpRequestHead::State HttpRequestHead::Fail(int status) {
  status_ = status;
  state_ = State::kBad;
  return state_;
}

HttpRequestHead::State HttpRequestHead::Feed(std::string_view bytes) {
  while (state_ == State::kIncomplete && !bytes.empty()) {
    const std::size_t room = max_bytes_ - buf_.size();
    const std::size_t lf = bytes.substr(0, room).find('\n');
    if (lf == std::string_view::npos) {
      if (bytes.size() >= room) return Fail(431);  // the head does not fit: Request Header Fields Too Large
      buf_.append(bytes);
      return state_;
    }
    buf_.append(bytes.substr(0, lf + 1));
    bytes.remove_prefix(lf + 1);
    std::string_view line(buf_.data() + line_start_, buf_.size() - line_start_ - 1);
    line_start_ = buf_.size();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!request_line_done_) {
      // RFC 9112 §2.2: empty lines before the request line are ignored.
      if (line.empty()) continue;
      request_line_done_ = true;
      ParseRequestLine(line);
    } else if (line.empty()) {
      status_ = 200;
      state_ = State::kComplete;
    } else {
      ParseHeaderLine(line);
    }
  }
  return state_;
}

HttpRequestHead::State HttpRequestHead::ParseRequestLine(std::string_view line) {
  // method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return Fail(400);
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Fail(400);
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method) || target.empty() || !std::all_of(target.begin(), target.end(), IsTargetChar))
    return Fail(400);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return Fail(400);
  }
  if (version[5] != '1') return Fail(505);  // HTTP Version Not Supported
  minor_ = version[7] - '0';
  // origin-form; an absolute-form target ("http://host/metrics", RFC 9112 §3.2.2) is reduced to its path.
  std::string_view path = target;
  if (path.front() != '/') {
    const auto scheme = path.find("://");
    if (scheme == std::string_view::npos) return Fail(400);
    const auto slash = path.find('/', scheme + 3);
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  path = path.substr(0, path.find_first_of("?#"));
  if (path.empty()) path = "/";
  method_ = std::string(method);
  path_ = std::string(path);
  return state_;
}

HttpRequestHead::State HttpRequestHead::ParseHeaderLine(std::string_view line) {
  // field-name ":" OWS field-value OWS; obsolete line folding (a line starting with a space) is refused
  // (RFC 9112 §5.2 allows that).
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) return Fail(400);
  const std::string_view value = line.substr(colon + 1);
  if (!std::all_of(value.begin(), value.end(), IsFieldValueChar)) return Fail(400);
  return state_;
}

}  // namespace ferry
