// StatusServer: the listening socket is made with plain socket/bind/listen and handed to libuv with
// uv_pipe_open, so every way Start() can fail happens before a libuv handle exists, and libuv never unlinks
// the path on its own (uv_pipe_bind's handle would, even after another ferry had replaced the file).
// Each client is one uv_pipe_t for its writes and its request line, and one uv_timer_t for the deadline of
// the phase it is in (snapshot written, request line, reload answer, last line written).
#include "agent/ops/status_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <utility>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "agent/core/errno_text.h"
#include "agent/core/uv_handle.h"
#include "agent/ops/status_request.h"

namespace ferry {

struct StatusServer::Client {
  StatusServer* server = nullptr;
  std::list<Client>::iterator self;
  std::uint64_t id = 0;
  uv_pipe_t pipe{};
  uv_timer_t timer{};
  uv_write_t write{};
  uv_write_t line_write{};
  uv_shutdown_t shutdown{};
  std::string reply;
  std::string line;  // the answer to the request, after the snapshot
  std::string request;
  char read_buf[kMaxStatusRequestBytes];
  StatusRequest parsed;
  int open_handles = 0;
  bool written = false;   // the snapshot is out
  bool decided = false;   // parsed holds the request (or the wait for one is over)
  bool answered = false;  // the request's answer is queued (or being made)
  bool finishing = false;
  bool closing = false;
};

namespace {

// Connections the kernel queues before the loop accepts them (SOMAXCONN on Linux).
constexpr int kBacklog = 128;

uv_stream_t* AsStream(uv_pipe_t* p) {
  return reinterpret_cast<uv_stream_t*>(p);
}

std::string ErrorJson(std::string_view message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
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
  c.id = next_client_id_++;
  c.reply = snapshot_();
  c.reply += '\n';
  // The loop's clock dates from before this callback; a large snapshot takes a while to build.
  uv_update_time(loop_);
  RestartTimer(c, limits_.client_timeout);
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
    client->written = true;
    // Its snapshot is out: a client that has not asked for more is given request_wait to do so.
    if (!client->decided) client->server->RestartTimer(*client, client->server->limits_.request_wait);
    client->server->Advance(*client);
  });
  if (rc < 0) {
    log_.debug("status socket {}: write to a client: {}", path_, uv_strerror(rc));
    CloseClient(c);
    return;
  }
  rc = uv_read_start(
      AsStream(&c.pipe),
      [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto* client = static_cast<Client*>(h->data);
        *buf = uv_buf_init(client->read_buf, sizeof client->read_buf);
      },
      [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
        auto* client = static_cast<Client*>(stream->data);
        if (n == UV_EOF) {
          client->server->OnRequestBytes(*client, {}, true);
        } else if (n < 0) {
          client->server->log_.debug("status socket: read from a client: {}",
                                     uv_strerror(static_cast<int>(n)));
          client->server->CloseClient(*client);
        } else if (n > 0) {
          client->server->OnRequestBytes(*client, std::string_view(buf->base, static_cast<std::size_t>(n)),
                                         false);
        }
      });
  if (rc < 0) {
    log_.debug("status socket {}: read from a client: {}", path_, uv_strerror(rc));
    CloseClient(c);
  }
}

void StatusServer::RestartTimer(Client& client, Duration timeout) {
  uv_timer_stop(&client.timer);
  uv_timer_start(
      &client.timer,
      [](uv_timer_t* t) {
        auto* client = static_cast<Client*>(t->data);
        StatusServer* self = client->server;
        if (client->written && !client->decided) {
          // It sent nothing: an older client reading its snapshot to the end.
          client->decided = true;
          client->parsed = StatusRequest{StatusRequestKind::kStatus, {}};
          self->Advance(*client);
          return;
        }
        self->log_.debug("status socket {}: a client was not done within its time; dropped", self->path_);
        self->CloseClient(*client);
      },
      static_cast<std::uint64_t>(timeout.count()), 0);
}

void StatusServer::OnRequestBytes(Client& client, std::string_view bytes, bool at_eof) {
  if (client.decided) {
    // Bytes after the request line, or its EOF: nothing more is read.
    uv_read_stop(AsStream(&client.pipe));
    return;
  }
  client.request.append(
      bytes.substr(0, kMaxStatusRequestBytes - std::min(client.request.size(), kMaxStatusRequestBytes)));
  client.parsed = ParseStatusRequest(client.request, at_eof);
  if (client.parsed.kind == StatusRequestKind::kIncomplete) return;
  client.decided = true;
  uv_read_stop(AsStream(&client.pipe));
  Advance(client);
}

void StatusServer::Advance(Client& client) {
  if (client.closing || !client.written || !client.decided || client.answered) return;
  client.answered = true;
  switch (client.parsed.kind) {
    case StatusRequestKind::kIncomplete:
    case StatusRequestKind::kStatus:
      Finish(client);
      return;
    case StatusRequestKind::kInvalid:
      log_.debug("status socket {}: {}", path_, client.parsed.error);
      WriteLine(client, ErrorJson(client.parsed.error));
      return;
    case StatusRequestKind::kReload:
      break;
  }
  if (!reload_) {
    WriteLine(client, ErrorJson("this process does not reload its config"));
    return;
  }
  RestartTimer(client, limits_.reload_timeout);
  reload_([this, id = client.id, alive = std::weak_ptr<char>(alive_)](std::string answer) {
    if (alive.expired()) return;
    if (Client* c = FindClient(id)) WriteLine(*c, std::move(answer));
  });
}

void StatusServer::WriteLine(Client& client, std::string line) {
  if (client.closing) return;
  client.line = std::move(line);
  client.line += '\n';
  RestartTimer(client, limits_.client_timeout);
  uv_buf_t buf = uv_buf_init(client.line.data(), static_cast<unsigned>(client.line.size()));
  int rc = uv_write(&client.line_write, AsStream(&client.pipe), &buf, 1, [](uv_write_t* req, int status) {
    if (status < 0) {
      auto* client = static_cast<Client*>(req->handle->data);
      client->server->CloseClient(*client);
    }
  });
  if (rc < 0) {
    CloseClient(client);
    return;
  }
  Finish(client);
}

void StatusServer::Finish(Client& client) {
  if (client.closing || client.finishing) return;
  client.finishing = true;
  int rc = uv_shutdown(&client.shutdown, AsStream(&client.pipe), [](uv_shutdown_t* sreq, int) {
    auto* client = static_cast<Client*>(sreq->handle->data);
    client->server->CloseClient(*client);
  });
  if (rc < 0) CloseClient(client);
}

StatusServer::Client* StatusServer::FindClient(std::uint64_t id) {
  for (Client& c : clients_) {
    if (c.id == id && !c.closing) return &c;
  }
  return nullptr;
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
  alive_.reset();  // reload answers still to come go nowhere
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
