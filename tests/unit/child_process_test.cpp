// Tests of ChildProcess (agent/process/child_process) against real processes: /bin/sh, cat, sleep, yes.
// Output read whole and by lines (CRLF, a last line without a newline, lines past the cap cut or the child
// killed); stdin written without blocking to a long-running child that answers line by line (cat), as a
// transform will; a child that exits while it is written to; the environment and argv with a PATH look-up;
// a timeout that kills the whole process group (the shell and what it started); Terminate with a grace
// period against a child that ignores SIGTERM; a flood of output read at the loop's pace; Close and
// destruction with a child running; a program that cannot start. Every test ends with an empty loop.
#include "agent/process/child_process.h"

#include <uv.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::process {
namespace {

using Mode = OutputOptions::Mode;

struct Line {
  std::string text;
  bool cut = false;
  bool operator==(const Line&) const = default;
};

// A loop, the events of one child recorded, and SIGPIPE ignored as in ferry (writes to a child that
// exited fail with EPIPE instead of ending the test binary).
class Harness {
 public:
  Harness() {
    uv_loop_init(&loop_);
    previous_sigpipe_ = std::signal(SIGPIPE, SIG_IGN);
  }
  ~Harness() {
    child.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // handles of a destroyed child close on their own
    CHECK(uv_loop_close(&loop_) == 0);
    std::signal(SIGPIPE, previous_sigpipe_);
  }

  ChildEvents Events() {
    ChildEvents events;
    events.on_stdout_line = [this](std::string_view line, bool cut) {
      out.push_back({std::string(line), cut});
    };
    events.on_stderr_line = [this](std::string_view line, bool cut) {
      err.push_back({std::string(line), cut});
    };
    events.on_writable = [this] { ++writable; };
    events.on_exit = [this](const ChildExit& e) {
      exit = e;
      ++exits;
    };
    return events;
  }

  void Spawn(const ChildOptions& options) {
    auto spawned = ChildProcess::Spawn(&loop_, options, Events());
    INFO((spawned.ok() ? std::string() : spawned.error().message()));
    REQUIRE(spawned.ok());
    child = std::move(*spawned);
  }

  // Runs the loop until done() or `limit` of loop time; a 5 ms ticker keeps uv_run from blocking.
  bool RunUntil(const std::function<bool()>& done, std::uint64_t limit_ms = 10000) {
    uv_timer_t ticker;
    uv_timer_init(&loop_, &ticker);
    uv_timer_start(
        &ticker, [](uv_timer_t*) {}, 5, 5);
    uv_update_time(&loop_);
    const std::uint64_t start = uv_now(&loop_);
    bool ok = done();
    while (!ok && uv_now(&loop_) - start < limit_ms) {
      uv_run(&loop_, UV_RUN_ONCE);
      ok = done();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&ticker), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return ok;
  }
  bool RunUntilExit(std::uint64_t limit_ms = 10000) {
    return RunUntil([this] { return exits > 0; }, limit_ms);
  }
  std::uint64_t now() {
    uv_update_time(&loop_);
    return uv_now(&loop_);
  }

  uv_loop_t* loop() { return &loop_; }

  std::unique_ptr<ChildProcess> child;
  std::vector<Line> out;
  std::vector<Line> err;
  int writable = 0;
  int exits = 0;
  ChildExit exit;

 private:
  uv_loop_t loop_{};
  void (*previous_sigpipe_)(int) = SIG_DFL;
};

ChildOptions Shell(std::string command, Mode out = Mode::kWhole, Mode err = Mode::kWhole) {
  ChildOptions options = ChildOptions::Shell(std::move(command));
  options.stdout_options.mode = out;
  options.stderr_options.mode = err;
  return options;
}

// Whether a process is gone: no such pid, or a zombie waiting for its new parent to reap it.
bool Gone(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

TEST_CASE("ChildProcess reads a child's whole output and its exit status", "[child_process]") {
  Harness h;
  h.Spawn(Shell("echo hello; echo oops >&2; exit 3"));
  CHECK(h.child->running());
  CHECK(h.child->pid() > 0);
  REQUIRE(h.RunUntilExit());
  CHECK(h.exits == 1);
  CHECK(h.exit.exit_status == 3);
  CHECK(h.exit.term_signal == 0);
  CHECK_FALSE(h.exit.succeeded());
  CHECK(h.exit.stdout_text == "hello\n");
  CHECK(h.exit.stderr_text == "oops\n");
  CHECK(h.exit.Describe() == "exit status 3");
  CHECK_FALSE(h.child->running());
}

TEST_CASE("ChildProcess splits output into lines: CRLF, stderr, a last line without a newline",
          "[child_process]") {
  Harness h;
  h.Spawn(
      Shell("printf 'one\\r\\ntwo\\n\\nthree'; printf 'warn 1\\nwarn 2\\n' >&2", Mode::kLines, Mode::kLines));
  REQUIRE(h.RunUntilExit());
  CHECK(h.exit.succeeded());
  CHECK(h.out == std::vector<Line>{{"one"}, {"two"}, {""}, {"three"}});
  CHECK(h.err == std::vector<Line>{{"warn 1"}, {"warn 2"}});
  CHECK(h.exit.stdout_text.empty());  // lines are not collected
}

TEST_CASE("ChildProcess cuts a line past its cap and drops the rest of it", "[child_process]") {
  Harness h;
  ChildOptions options = Shell("printf '%0100d\\nshort\\n0123456789\\n' 0", Mode::kLines);
  options.stdout_options.cap = 10;
  h.Spawn(options);
  REQUIRE(h.RunUntilExit());
  CHECK(h.out == std::vector<Line>{{"0000000000", true}, {"short"}, {"0123456789"}});
  CHECK(h.exit.stdout_cut);
  CHECK(h.exit.succeeded());
}

TEST_CASE("ChildProcess keeps the first bytes of a whole output past its cap", "[child_process]") {
  Harness h;
  ChildOptions options = Shell("head -c 1000000 /dev/zero | tr '\\0' x");
  options.stdout_options.cap = 1000;
  h.Spawn(options);
  REQUIRE(h.RunUntilExit());
  CHECK(h.exit.succeeded());
  CHECK(h.exit.stdout_cut);
  CHECK(h.exit.stdout_text == std::string(1000, 'x'));
}

TEST_CASE("ChildProcess kills a child that floods its output past the cap", "[child_process]") {
  Harness h;
  SECTION("whole output") {
    ChildOptions options = Shell("yes flood");
    options.stdout_options = {Mode::kWhole, 64 << 10, true};
    h.Spawn(options);
    REQUIRE(h.RunUntilExit());
    CHECK(h.exit.overflowed);
    CHECK(h.exit.term_signal == SIGKILL);
    CHECK(h.exit.Describe() == "killed: its stdout passed 65536 bytes");
  }
  SECTION("one endless line") {
    ChildOptions options = Shell("tr '\\0' x < /dev/zero", Mode::kLines);
    options.stdout_options = {Mode::kLines, 4096, true};
    h.Spawn(options);
    REQUIRE(h.RunUntilExit());
    CHECK(h.exit.overflowed);
    CHECK(h.out.empty());
    CHECK(h.exit.Describe() == "killed: its stdout passed 4096 bytes in one line");
  }
}

TEST_CASE("ChildProcess reads a flood of lines while the loop keeps running", "[child_process]") {
  Harness h;
  h.Spawn(Shell("yes 'a line of output' | head -n 200000", Mode::kLines));
  // A timer on the same loop keeps firing while the lines come.
  uv_timer_t tick;
  int ticks = 0;
  uv_timer_init(h.loop(), &tick);
  tick.data = &ticks;
  uv_timer_start(
      &tick, [](uv_timer_t* t) { ++*static_cast<int*>(t->data); }, 1, 1);
  REQUIRE(h.RunUntilExit(30000));
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  CHECK(h.exit.succeeded());
  REQUIRE(h.out.size() == 200000);
  CHECK(h.out.back() == Line{"a line of output"});
  CHECK(ticks > 0);
}

TEST_CASE("ChildProcess talks to a long-running child line by line over stdin and stdout",
          "[child_process]") {
  Harness h;
  ChildOptions options;
  options.argv = {"cat"};  // found in PATH
  options.stdin_pipe = true;
  options.stdout_options.mode = Mode::kLines;
  h.Spawn(options);
  // One request, one answer, as a transform plugin works.
  REQUIRE(h.child->Write("{\"batch\":1}\n").ok());
  REQUIRE(h.RunUntil([&] { return h.out.size() == 1; }));
  CHECK(h.out[0] == Line{"{\"batch\":1}"});
  CHECK(h.writable >= 1);
  CHECK(h.child->queued_bytes() == 0);
  CHECK(h.child->running());
  // A large write is queued, never blocking the loop, and comes back whole.
  const std::string big(1 << 20, 'y');
  REQUIRE(h.child->Write(big + "\n").ok());
  CHECK(h.child->queued_bytes() > 0);
  REQUIRE(h.RunUntil([&] { return h.out.size() == 2; }));
  CHECK(h.out[1].text.size() == (64u << 10));  // the default cap of a line
  CHECK(h.out[1].cut);
  h.child->CloseStdin();
  CHECK_FALSE(h.child->Write("late\n").ok());
  REQUIRE(h.RunUntilExit());
  CHECK(h.exit.succeeded());
  CHECK(h.exit.stdin_error.empty());
}

TEST_CASE("ChildProcess reports a child that exits while it is being written to", "[child_process]") {
  Harness h;
  ChildOptions options = Shell("read first; exit 4");
  options.stdin_pipe = true;
  h.Spawn(options);
  REQUIRE(h.child->Write("first\n").ok());
  REQUIRE(h.RunUntilExit());
  CHECK(h.exit.exit_status == 4);
  // Writing now fails: the write is queued and its callback meets EPIPE; later writes say why.
  CHECK(h.child->Write(std::string(1 << 20, 'z')).ok());
  REQUIRE(h.RunUntil([&] { return h.child->queued_bytes() == 0; }));
  Status again = h.child->Write("again");
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error().message(), Catch::Contains("broken pipe"));
}

TEST_CASE("ChildProcess gives the child the environment given, and looks argv up in its PATH",
          "[child_process]") {
  Harness h;
  ChildOptions options;
  options.argv = {"sh", "-c", "printf '%s|%s' \"$FERRY_TEST\" \"${HOME:-unset}\""};
  options.env = std::vector<std::string>{"FERRY_TEST=from the test", "PATH=/usr/bin:/bin"};
  options.stdout_options.mode = Mode::kWhole;
  h.Spawn(options);
  REQUIRE(h.RunUntilExit());
  CHECK(h.exit.stdout_text == "from the test|unset");
}

TEST_CASE("ChildProcess kills the whole process group at its timeout", "[child_process]") {
  Harness h;
  // The shell forks sleep and waits: killing the shell alone would leave sleep holding stdout open.
  ChildOptions options = Shell("sleep 30 & echo $!; wait", Mode::kLines);
  options.timeout = Duration(300);
  const std::uint64_t start = h.now();
  h.Spawn(options);
  REQUIRE(h.RunUntilExit());
  const std::uint64_t took = h.now() - start;
  CHECK(took >= 250);
  CHECK(h.exit.timed_out);
  CHECK(h.exit.term_signal == SIGKILL);
  CHECK(h.exit.Describe(300) == "killed after 300 ms without finishing");
  // sleep was killed with the shell (alone, it would have held stdout for 30 s).
  REQUIRE(h.out.size() == 1);
  const int sleeper = std::stoi(h.out[0].text);
  CHECK(h.RunUntil([&] { return Gone(sleeper); }, 5000));
}

TEST_CASE("ChildProcess::Terminate asks with SIGTERM, then kills after the grace period", "[child_process]") {
  Harness h;
  SECTION("a child that stops on SIGTERM") {
    h.Spawn(Shell("exec sleep 30"));
    h.child->Terminate(Duration(5000));
    REQUIRE(h.RunUntilExit());
    CHECK(h.exit.term_signal == SIGTERM);  // not the SIGKILL due after 5 s
  }
  SECTION("a child that ignores SIGTERM") {
    h.Spawn(Shell("trap '' TERM; echo ready; sleep 30", Mode::kLines));
    REQUIRE(h.RunUntil([&] { return !h.out.empty(); }));  // the trap is set
    const std::uint64_t start = h.now();
    h.child->Terminate(Duration(300));
    REQUIRE(h.RunUntilExit());
    const std::uint64_t took = h.now() - start;
    CHECK(took >= 250);
    CHECK(h.exit.term_signal == SIGKILL);
    CHECK_FALSE(h.exit.timed_out);
  }
}

TEST_CASE("ChildProcess::Close kills a running child, calls back once closed and nothing else",
          "[child_process]") {
  Harness h;
  h.Spawn(Shell("sleep 30", Mode::kLines, Mode::kLines));
  const int pid = h.child->pid();
  bool closed = false;
  h.child->Close([&] { closed = true; });
  CHECK_FALSE(closed);  // from the loop
  REQUIRE(h.RunUntil([&] { return closed; }));
  CHECK(h.exits == 0);
  CHECK(Gone(pid));
  h.child->Close([] { FAIL("a second Close does nothing"); });
}

TEST_CASE("ChildProcess destroyed with a child running kills it and lets the loop end", "[child_process]") {
  Harness h;
  h.Spawn(Shell("sleep 30"));
  const int pid = h.child->pid();
  h.child.reset();
  uv_run(h.loop(), UV_RUN_DEFAULT);  // returns once the child is reaped and every handle closed
  CHECK(h.exits == 0);
  CHECK(Gone(pid));
}

TEST_CASE("ChildProcess reports a program that cannot start", "[child_process]") {
  Harness h;
  ChildOptions options;
  options.argv = {"/nonexistent/ferry-test-program"};
  auto spawned = ChildProcess::Spawn(h.loop(), options, h.Events());
  REQUIRE_FALSE(spawned.ok());
  CHECK(spawned.error().message() ==
        "cannot start /nonexistent/ferry-test-program: no such file or directory");
  CHECK_FALSE(ChildProcess::Spawn(h.loop(), ChildOptions{}, h.Events()).ok());
}

}  // namespace
}  // namespace ferry::process
