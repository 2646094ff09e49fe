// StatusServer: the daemon's status socket, `ferry.sock` in state_dir. Every client that connects is sent one
// snapshot (the text the snapshot callback returns, then "\n") at once. A client may send a request line
// (ops/status_request.h): "status\n" or EOF ends the connection once the snapshot is written; "reload\n" adds
// one JSON line with the reload handler's answer; a client that sends nothing is disconnected after
// request_wait (it has had its snapshot from the start).
// Because it answers, the socket also tells a second ferry started on the same state_dir that this one is
// running: Start() refuses to replace a socket that accepts connections, and replaces one that does not.
//
// Thread rules: a StatusServer belongs to the thread that runs its uv_loop_t; call every member there. The
// snapshot callback runs on the loop, once per accepted client, and must not throw; so does the reload
// handler. Memory: at most max_clients snapshots are held, each for at most client_timeout (reload_timeout
// while a reload is answered), and at most kMaxStatusRequestBytes of request each, so a client cannot pin
// memory. The process must ignore SIGPIPE (ferry's main does): libuv writes to a client that hung up with
// write(2), which raises it.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "agent/core/result.h"
#include "agent/core/units.h"

namespace ferry {

// The socket's file name inside state_dir; `ferry status` connects to the same name.
inline constexpr std::string_view kStatusSocketName = "ferry.sock";

// Whether path fits a unix socket address (sun_path); kInvalidArgument naming the path and the limit if not.
// Start() checks it, and so does `ferry check` (ops/preflight.h).
Status CheckStatusSocketPath(const std::string& path);

struct StatusServerLimits {
  // A client that has not taken its whole snapshot by then is disconnected (`ferry status` waits as long).
  Duration client_timeout = std::chrono::seconds(5);
  // Clients served at once; a connection beyond this is closed unanswered. Bounds memory to this many
  // snapshots.
  std::size_t max_clients = 64;
  // A client that has sent no complete request line by then is taken for one that sends nothing.
  Duration request_wait = std::chrono::milliseconds(500);
  // How long a "reload" client is kept waiting for the handler's answer (`ferry reload` waits as long).
  Duration reload_timeout = std::chrono::minutes(5);
};

// Answers a "reload" request: calls reply once with one JSON document (no newline), from the loop, possibly
// after a while. reply may be called after the client or the server is gone; it is then a no-op.
using StatusReloadHandler = std::function<void(std::function<void(std::string)> reply)>;

class StatusServer {
 public:
  // `loop` and `log` must outlive the server. No libuv handle exists before Start() succeeds.
  StatusServer(uv_loop_t* loop, spdlog::logger& log, std::string socket_path,
               std::function<std::string()> snapshot, StatusServerLimits limits = {});
  // Requires Close() to have completed (on_closed ran), or Start() never to have succeeded; otherwise libuv
  // handles would dangle, so the destructor reports the misuse and aborts.
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Listens on socket_path (mode 0660, best effort). A socket file already there is probed with a connect:
  // if it answers, another ferry uses this state_dir and Start fails (kIo); if not, it is a leftover of a
  // ferry that died and is replaced. A file there that is not a socket is never removed (kIo). A path
  // longer than a unix socket address allows is kInvalidArgument. Call it once.
  Status Start();
  // Without one, "reload" is answered with an error line.
  void set_reload_handler(StatusReloadHandler handler) { reload_ = std::move(handler); }

  // Closes the listener and every client and removes the socket file (if it is still the one Start()
  // created); on_closed runs once every handle is closed, from the loop (at once if Start() never
  // succeeded). The server may be destroyed from on_closed. Later calls are ignored.
  void Close(std::function<void()> on_closed);

  // Clients connected and not yet closed.
  std::size_t clients() const { return clients_.size(); }
  const std::string& socket_path() const { return path_; }

 private:
  struct Client;

  Status RemoveStaleSocket();
  Error AnotherFerry() const;
  void Accept();
  void OnRequestBytes(Client& client, std::string_view bytes, bool at_eof);
  // Moves a client on once its snapshot is written and its request known.
  void Advance(Client& client);
  void WriteLine(Client& client, std::string line);
  // Ends the connection once every write is out.
  void Finish(Client& client);
  void RestartTimer(Client& client, Duration timeout);
  Client* FindClient(std::uint64_t id);
  void CloseClient(Client& client);
  void OnClientClosed(Client& client);
  void RemoveSocketFile();
  void FinishCloseIfDone();

  uv_loop_t* loop_;
  spdlog::logger& log_;
  std::string path_;
  std::function<std::string()> snapshot_;
  StatusReloadHandler reload_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();  // reload replies hold it weakly
  std::uint64_t next_client_id_ = 1;
  StatusServerLimits limits_;
  uv_pipe_t* listener_ = nullptr;  // heap: freed by its close callback
  std::list<Client> clients_;      // stable addresses: libuv handles live inside
  dev_t socket_dev_ = 0;           // identity of the file Start() bound, so Close() removes only that
  ino_t socket_ino_ = 0;
  bool started_ = false;
  bool closing_ = false;
  bool overflow_logged_ = false;
  std::function<void()> on_closed_;
};

}  // namespace ferry
