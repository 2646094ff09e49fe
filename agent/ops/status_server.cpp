// StatusServer: the listening socket is made with plain socket/bind/listen and handed to libuv with
// uv_pipe_open, so every way Start() can fail happens before a libuv handle exists, and libuv never unlinks
// the path on its own (uv_pipe_bind's handle would, even after another ferry had replaced the file).
// Each client is one uv_pipe_t for the write and one uv_timer_t for its deadline.
#include "agent/ops/status_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "agent/core/errno_text.h"
#include "agent/core/uv_handle.h"

namespace ferry {

struct StatusServer::Client {
  StatusServer* server = nullptr;
  std::list<Client>::iterator self;
  uv_pipe_t pipe{};
  uv_timer_t timer{};
  uv_write_t write{};
  uv_shutdown_t shutdown{};
  std::string reply;
  int open_handles = 0;
  bool closing = false;
};

namespace {

// Connections the kernel queues before the loop accepts them (SOMAXCONN on Linux).
constexpr int kBacklog = 128;

uv_stream_t* AsStream(uv_pipe_t* p) {
  return reinterpret_cast<uv_stream_t*>(p);
}

}  // namespace

StatusServer::StatusServer(uv_loop_t* loop, spdlog::logger& log, std::string socket_path,
                           std::function<std::string()> snapshot, StatusServerLimits limits)
    : loop_(loop),
      log_(log),
      path_(std::move(socket_path)),
      snapshot_(std::move(snapshot)),
      limits_(limits) {}

StatusServer::~StatusServer() {
  if (listener_ != nullptr || !clients_.empty()) {
    std::fprintf(stderr,
                 "ferry::StatusServer destroyed while it still owns libuv handles; call Close() and wait for "
                 "on_closed first\n");
    std::abort();
  }
}

Status CheckStatusSocketPath(const std::string& path) {
  constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;  // room for the terminating NUL
  if (path.size() > kMaxPath) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("status socket {}: the path is {} bytes, a unix socket allows at most {}; choose a "
                    "shorter state_dir",
                    path, path.size(), kMaxPath));
  }
  return Status::Ok();
}

Error StatusServer::AnotherFerry() const {
  return Error(ErrorCode::kIo,
               fmt::format("another ferry is running with state_dir {} (status socket {} answers)",
                           std::filesystem::path(path_).parent_path().string(), path_));
}

Status StatusServer::RemoveStaleSocket() {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Error(ErrorCode::kIo, fmt::format("status socket {}: {}", path_, ErrnoText(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Error(
        ErrorCode::kIo,
        fmt::format("status socket {}: a file that is not a socket is in the way; not removing it", path_));
  }
  // Non-blocking, so a ferry whose accept queue is full answers EAGAIN at once instead of stalling startup.
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Error(ErrorCode::kIo, fmt::format("status socket {}: socket: {}", path_, ErrnoText(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  int err = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
  ::close(fd);
  if (err == 0 || err == EAGAIN || err == EINPROGRESS) return AnotherFerry();
  if (err == ENOENT) return Status::Ok();  // removed since lstat
  if (err != ECONNREFUSED) {
    return Error(ErrorCode::kIo,
                 fmt::format("status socket {}: cannot tell whether another ferry uses it: {}", path_,
                             ErrnoText(err)));
  }
  log_.info("status socket {}: removing the socket left by a ferry that is gone", path_);
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return Error(ErrorCode::kIo,
                 fmt::format("status socket {}: cannot remove it: {}", path_, ErrnoText(errno)));
  }
  return Status::Ok();
}

Status StatusServer::Start() {
  if (started_ || closing_) return Error(ErrorCode::kInternal, "StatusServer::Start called twice");
  if (Status fits = CheckStatusSocketPath(path_); !fits) return fits;
  sockaddr_un addr{};
  if (Status cleared = RemoveStaleSocket(); !cleared) return cleared;

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Error(ErrorCode::kIo, fmt::format("status socket {}: socket: {}", path_, ErrnoText(errno)));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    // Another ferry bound it between the probe and now.
    if (err == EADDRINUSE) return AnotherFerry();
    return Error(ErrorCode::kIo, fmt::format("status socket {}: bind: {}", path_, ErrnoText(err)));
  }
  // Owner and group only: the status names every file tailed. Nobody can connect before listen(), so the
  // umask's mode until chmod does not matter.
  if (::chmod(path_.c_str(), 0660) != 0)
    log_.warn("status socket {}: chmod 0660: {}", path_, ErrnoText(errno));
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    socket_dev_ = st.st_dev;
    socket_ino_ = st.st_ino;
  }

  auto* pipe = new uv_pipe_t;
  uv_pipe_init(loop_, pipe, 0);
  int rc = uv_pipe_open(pipe, fd);
  if (rc < 0) {
    ::close(fd);  // not adopted by the handle
  } else {
    pipe->data = this;
    rc = uv_listen(AsStream(pipe), kBacklog, [](uv_stream_t* server, int status) {
      auto* self = static_cast<StatusServer*>(server->data);
      if (status < 0) {
        self->log_.warn("status socket {}: accept: {}", self->path_, uv_strerror(status));
        return;
      }
      self->Accept();
    });
  }
  if (rc < 0) {
    CloseHandle(pipe, [pipe] { delete pipe; });
    ::unlink(path_.c_str());
    return Error(ErrorCode::kIo, fmt::format("status socket {}: listen: {}", path_, uv_strerror(rc)));
  }
  listener_ = pipe;
  started_ = true;
  log_.debug("status socket {}: listening", path_);
  return Status::Ok();
}

void StatusServer::Accept() {
  Client& c = clients_.emplace_back();
  c.server = this;
  c.self = std::prev(clients_.end());
  uv_pipe_init(loop_, &c.pipe, 0);
  uv_timer_init(loop_, &c.timer);
  c.pipe.data = &c;
  c.timer.data = &c;
  c.open_handles = 2;
  if (int rc = uv_accept(AsStream(listener_), AsStream(&c.pipe)); rc < 0) {
    log_.warn("status socket {}: accept: {}", path_, uv_strerror(rc));
    CloseClient(c);
    return;
  }
  if (clients_.size() > limits_.max_clients) {
    if (!overflow_logged_) {
      log_.warn("status socket {}: more than {} clients at once; closing new ones unanswered", path_,
                limits_.max_clients);
      overflow_logged_ = true;
    }
    CloseClient(c);
    return;
  }
  c.reply = snapshot_();
  c.reply += '\n';
  // The loop's clock dates from before this callback; a large snapshot takes a while to build.
  uv_update_time(loop_);
  uv_timer_start(
      &c.timer,
      [](uv_timer_t* t) {
        auto* client = static_cast<Client*>(t->data);
        StatusServer* self = client->server;
        self->log_.debug("status socket {}: a client did not read its status within {}; dropped", self->path_,
                         FormatDuration(self->limits_.client_timeout));
        self->CloseClient(*client);
      },
      static_cast<std::uint64_t>(limits_.client_timeout.count()), 0);
  uv_buf_t buf = uv_buf_init(c.reply.data(), static_cast<unsigned>(c.reply.size()));
  int rc = uv_write(&c.write, AsStream(&c.pipe), &buf, 1, [](uv_write_t* req, int status) {
    auto* client = static_cast<Client*>(req->handle->data);
    if (status < 0) {
      // UV_ECANCELED: the client is already closing.
      if (status != UV_ECANCELED)
        client->server->log_.debug("status socket: write to a client: {}", uv_strerror(status));
      client->server->CloseClient(*client);
      return;
    }
    int rc = uv_shutdown(&client->shutdown, req->handle, [](uv_shutdown_t* sreq, int) {
      auto* client = static_cast<Client*>(sreq->handle->data);
      client->server->CloseClient(*client);
    });
    if (rc < 0) client->server->CloseClient(*client);
  });
  if (rc < 0) {
    log_.debug("status socket {}: write to a client: {}", path_, uv_strerror(rc));
    CloseClient(c);
  }
}

void StatusServer::CloseClient(Client& client) {
  if (client.closing) return;
  client.closing = true;
  // By hand, not with CloseHandle: the write and shutdown the close cancels read the pipe's data.
  auto on_close = [](uv_handle_t* h) {
    auto* client = static_cast<Client*>(h->data);
    if (--client->open_handles == 0) client->server->OnClientClosed(*client);
  };
  uv_close(AsHandle(&client.pipe), on_close);
  uv_close(AsHandle(&client.timer), on_close);
}

void StatusServer::OnClientClosed(Client& client) {
  clients_.erase(client.self);
  if (clients_.size() < limits_.max_clients) overflow_logged_ = false;
  FinishCloseIfDone();
}

void StatusServer::Close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  if (listener_ != nullptr) {
    CloseHandle(listener_, [this, pipe = listener_] {
      delete pipe;
      listener_ = nullptr;
      FinishCloseIfDone();
    });
    RemoveSocketFile();
  }
  for (Client& c : clients_) CloseClient(c);
  FinishCloseIfDone();
}

void StatusServer::RemoveSocketFile() {
  // Only the file Start() bound: if a ferry started after this one was presumed dead has replaced it,
  // removing it would hide that ferry.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) != 0) return;
  if (st.st_dev != socket_dev_ || st.st_ino != socket_ino_) {
    log_.warn("status socket {}: replaced by another process; leaving it", path_);
    return;
  }
  if (::unlink(path_.c_str()) != 0)
    log_.warn("status socket {}: cannot remove it: {}", path_, ErrnoText(errno));
}

void StatusServer::FinishCloseIfDone() {
  if (!closing_ || listener_ != nullptr || !clients_.empty() || !on_closed_) return;
  // Moved out first: on_closed may destroy the server.
  auto on_closed = std::move(on_closed_);
  on_closed_ = nullptr;
  on_closed();
}

}  // namespace ferry
