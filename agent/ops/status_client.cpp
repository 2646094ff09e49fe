// FetchStatus: a blocking connect bounded by SO_SNDTIMEO (which also bounds a unix connect that waits for
// room in a busy daemon's accept queue), then poll(2) and read(2) against one deadline.
#include "agent/ops/status_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "agent/core/errno_text.h"

namespace ferry {
namespace {

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

Result<std::string> FetchStatus(const std::string& socket_path, Duration timeout) {
  return AskStatusSocket(socket_path, "status", timeout);
}

Result<std::string> AskStatusSocket(const std::string& socket_path, std::string_view request,
                                    Duration timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  auto timed_out = [&] {
    return Error(ErrorCode::kNetwork,
                 fmt::format("{}: no complete answer within {}", socket_path, FormatDuration(timeout)));
  };

  sockaddr_un addr{};
  if (socket_path.size() > sizeof(addr.sun_path) - 1) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}: the path is {} bytes, a unix socket allows at most {}", socket_path,
                             socket_path.size(), sizeof(addr.sun_path) - 1));
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(ErrorCode::kIo, fmt::format("{}: socket: {}", socket_path, ErrnoText(errno)));
  FdCloser closer(fd);

  auto usec = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval tv{static_cast<time_t>(usec / 1'000'000), static_cast<suseconds_t>(usec % 1'000'000)};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    if (err == EAGAIN || err == EINPROGRESS) return timed_out();
    ErrorCode code = (err == ENOENT || err == ECONNREFUSED) ? ErrorCode::kNotFound : ErrorCode::kIo;
    return Error(code, fmt::format("{}: {}", socket_path, ErrnoText(err)));
  }

  // One short line: it fits the socket's buffer, so this write does not block.
  const std::string line = std::string(request) + "\n";
  ssize_t sent;
  do {
    sent = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  // A daemon that closed already has still sent its snapshot; reading tells.
  if (sent < 0 && errno != EPIPE && errno != ECONNRESET)
    return Error(ErrorCode::kIo, fmt::format("{}: send: {}", socket_path, ErrnoText(errno)));

  std::string reply;
  char buf[64 * 1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return timed_out();
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<decltype(left)>(left, 60'000)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(ErrorCode::kIo, fmt::format("{}: poll: {}", socket_path, ErrnoText(errno)));
    if (n == 0) continue;  // the deadline check above decides
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    // The daemon closed with our request unread: an end like any other (judged below).
    if (got < 0 && errno == ECONNRESET) break;
    if (got < 0) return Error(ErrorCode::kIo, fmt::format("{}: read: {}", socket_path, ErrnoText(errno)));
    if (got == 0) break;
    reply.append(buf, static_cast<std::size_t>(got));
  }
  // The daemon ends every complete reply with a newline; without it, the daemon gave up on us (it was
  // closing, or serving as many clients as it allows).
  if (reply.empty())
    return Error(ErrorCode::kProtocol, fmt::format("{}: closed without an answer", socket_path));
  if (reply.back() != '\n') {
    return Error(ErrorCode::kProtocol,
                 fmt::format("{}: the answer was cut short after {} bytes", socket_path, reply.size()));
  }
  return reply;
}

}  // namespace ferry
