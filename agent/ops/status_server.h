// StatusServer: the daemon's status socket, `ferry.sock` in state_dir. Every client that connects is sent one
// snapshot (the text the snapshot callback returns, then "\n") and is disconnected; clients send nothing.
// Because it answers, the socket also tells a second ferry started on the same state_dir that this one is
// running: Start() refuses to replace a socket that accepts connections, and replaces one that does not.
//
// Thread rules: a StatusServer belongs to the thread that runs its uv_loop_t; call every member there. The
// snapshot callback runs on the loop, once per accepted client, and must not throw.
// Memory: at most max_clients snapshots are held, each for at most client_timeout, so a client that does not
// read cannot pin memory. The process must ignore SIGPIPE (ferry's main does): libuv writes to a client that
// hung up with write(2), which raises it.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
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
};

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
  void CloseClient(Client& client);
  void OnClientClosed(Client& client);
  void RemoveSocketFile();
  void FinishCloseIfDone();

  uv_loop_t* loop_;
  spdlog::logger& log_;
  std::string path_;
  std::function<std::string()> snapshot_;
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
