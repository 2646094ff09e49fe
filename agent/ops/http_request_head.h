// HttpRequestHead: reads the head of one HTTP/1.x request (request line and header lines, up to the empty
// line) as it arrives in pieces from an untrusted client of the metrics endpoint. It keeps at most
// max_bytes, so a client that never ends its head (slowloris, a 1 MiB request line) costs a bounded amount
// of memory and gets 431; a head that is not HTTP/1.0 or 1.1 gets 400 or 505. Header values are checked
// for form only: the endpoint answers the same to every client, so none of them changes the answer.
// Tolerates bare LF line ends (RFC 9112 §2.2). No body is read. One parser per connection; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry {

class HttpRequestHead {
 public:
  enum class State {
    kIncomplete,  // feed more
    kComplete,    // method(), target(), minor_version() are set
    kBad,         // answer status() (400, 431 or 505) and close
  };

  explicit HttpRequestHead(std::size_t max_bytes = 8192) : max_bytes_(max_bytes) {}

  // Takes the next bytes of the connection. Once the state is not kIncomplete, further bytes are ignored
  // (a body or a pipelined request is not read: the connection closes after one answer).
  State Feed(std::string_view bytes);
  State state() const { return state_; }

  // kBad: the status to answer; kComplete: 200 (what the endpoint makes of the target is its own).
  int status() const { return status_; }
  std::string_view method() const { return method_; }
  // The path, without the query ("/metrics?x=1" -> "/metrics").
  std::string_view path() const { return path_; }
  int minor_version() const { return minor_; }
  // Bytes of the head held (at most max_bytes).
  std::size_t held() const { return buf_.size(); }

 private:
  State Fail(int status);
  State ParseRequestLine(std::string_view line);
  State ParseHeaderLine(std::string_view line);

  std::size_t max_bytes_;
  std::string buf_;
  std::size_t line_start_ = 0;  // where the line being read begins in buf_
  bool request_line_done_ = false;
  State state_ = State::kIncomplete;
  int status_ = 0;
  std::string method_;
  std::string path_;
  int minor_ = 0;
};

}  // namespace ferry
