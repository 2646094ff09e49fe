// ChildProcess: one child process run from the libuv loop, for every program ferry starts: a profile's
// credential_process (run once, its whole output read) and a transform that keeps a child running (a JSON
// line written to its stdin per batch, a line read back from its stdout, its stderr logged line by line).
//
// - Spawned from argv (the program looked up in PATH when it has no '/') or as `/bin/sh -c COMMAND`, with
//   the environment given (or ferry's own), in a process group of its own: every signal goes to the whole
//   group, so the shell of `sh -c 'a | b'` and what it started stop together, and a terminal's Ctrl-C
//   reaches ferry alone (which then stops its children). The child has no controlling terminal.
// - stdin is /dev/null or a pipe: Write() queues bytes and never blocks (the queue is the caller's to
//   bound: queued_bytes(), on_writable); CloseStdin() ends it after what is queued, and the child reads EOF.
// - stdout and stderr are each discarded, collected whole, or split into lines, within a cap: the whole
//   output keeps its first `cap` bytes, a line longer than `cap` comes cut to `cap` (the rest of it is
//   dropped); or, with kill_on_overflow, the child is killed and its exit says so. A child that floods its
//   output is read as fast as the loop goes, and costs at most the cap.
// - A timeout kills the group (SIGKILL). Terminate() sends SIGTERM and SIGKILL after a grace period; Kill()
//   sends SIGKILL.
// - on_exit runs once, when the child has exited and its outputs have ended (end of file; at most
//   kOutputGrace after the exit, in case a process it left behind holds them open).
// - Close(on_closed) kills a child still running and closes every handle; on_closed runs from the loop
//   once they are closed, and no other callback runs after Close(). Destroying a ChildProcess does the
//   same without the callback: its handles then close on their own as the loop runs.
//
// Writing to a child that has exited raises SIGPIPE: the process must ignore it (ferry's main does).
// Loop thread only; nothing here blocks (spawning waits only for exec, as uv_spawn does).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/core/units.h"

namespace ferry::process {

// How the output of one stream is taken.
struct OutputOptions {
  enum class Mode { kDiscard, kWhole, kLines };
  Mode mode = Mode::kDiscard;
  std::size_t cap = 64 << 10;     // bytes of the whole output, or of one line (without its newline)
  bool kill_on_overflow = false;  // past the cap, kill the child instead of cutting
};

struct ChildOptions {
  std::vector<std::string> argv;  // argv[0] is the program
  // "KEY=value" entries; none: ferry's own environment.
  std::optional<std::vector<std::string>> env;
  std::string cwd;          // empty: ferry's
  bool stdin_pipe = false;  // else the child reads /dev/null
  OutputOptions stdout_options;
  OutputOptions stderr_options;
  Duration timeout{0};  // 0: none; else the child is killed after this long

  // `/bin/sh -c command`, as the AWS SDKs run credential_process.
  static ChildOptions Shell(std::string command);
};

// How a child ended.
struct ChildExit {
  std::int64_t exit_status = 0;
  int term_signal = 0;      // the signal that ended it, 0 if it exited
  bool timed_out = false;   // killed at its timeout
  bool overflowed = false;  // killed for output past a cap (kill_on_overflow)
  std::string overflow;     // then which: "its stdout passed 65536 bytes"
  bool stdout_cut = false;  // some of stdout was dropped at its cap
  bool stderr_cut = false;
  std::string stdout_text;  // the whole output (Mode::kWhole), up to its cap
  std::string stderr_text;
  std::string stdin_error;  // why writing to its stdin failed, if it did (e.g. the child closed it)

  bool succeeded() const { return !timed_out && !overflowed && term_signal == 0 && exit_status == 0; }
  // "exit status 3", "killed by signal 9", "killed after 200 ms without finishing" (timeout_ms given),
  // "killed: its stdout passed 65536 bytes".
  std::string Describe(std::uint64_t timeout_ms = 0) const;
};

struct ChildEvents {
  // Mode::kLines: each line without its '\n' (nor a '\r' before it); cut: it was longer than the cap.
  // A last line without a newline comes at end of file.
  std::function<void(std::string_view line, bool cut)> on_stdout_line;
  std::function<void(std::string_view line, bool cut)> on_stderr_line;
  // Everything queued on stdin has been written to the pipe.
  std::function<void()> on_writable;
  std::function<void(const ChildExit&)> on_exit;
};

class ChildProcess {
 public:
  // How long outputs may stay open after the child has exited (see above).
  static constexpr Duration kOutputGrace{1000};

  // Starts the child. An error (no such program, no right to run it, a bad option) means nothing runs and
  // nothing needs closing. events may be called from the next loop iteration on, never from here.
  static Result<std::unique_ptr<ChildProcess>> Spawn(uv_loop_t* loop, const ChildOptions& options,
                                                     ChildEvents events);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const;
  bool running() const;  // spawned and not exited yet

  // Queues data for the child's stdin. An error if there is no stdin pipe, it was closed, or writing to
  // it failed (ChildExit::stdin_error then says why).
  Status Write(std::string data);
  std::size_t queued_bytes() const;
  // Ends stdin once what is queued is written. Nothing if there is none.
  void CloseStdin();

  // Stops and restarts reading stdout (a caller that cannot take more lines yet).
  void PauseStdout();
  void ResumeStdout();

  // SIGTERM to the group now, SIGKILL after grace if it has not exited by then.
  void Terminate(Duration grace);
  void Kill();

  void Close(std::function<void()> on_closed);

  struct Core;  // the handles; lives until they are closed

 private:
  explicit ChildProcess(Core* core) : core_(core) {}
  Core* core_;
};

}  // namespace ferry::process
