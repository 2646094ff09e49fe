// Tests of TerminalMode (agent/cli/terminal_mode.h) on a real pseudo-terminal: Enter turns echo and line
// editing off and switches to the alternate screen, Draw writes a frame that never scrolls, and Restore
// (or the destructor) puts back the settings and the main screen.
#include "agent/cli/terminal_mode.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

namespace ferry::cli {
namespace {

// A pseudo-terminal: the test reads what is written to `terminal` from `screen`.
struct Pty {
  Pty() {
    screen = ::posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(screen >= 0);
    REQUIRE(::grantpt(screen) == 0);
    REQUIRE(::unlockpt(screen) == 0);
    terminal = ::open(::ptsname(screen), O_RDWR | O_NOCTTY);
    REQUIRE(terminal >= 0);
    // Bytes as written: output processing would turn each "\n" into "\r\n".
    termios t = Modes();
    t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    REQUIRE(::tcsetattr(terminal, TCSANOW, &t) == 0);
  }
  ~Pty() {
    ::close(terminal);
    ::close(screen);
  }
  // Everything written so far (the pty delivers it at once; poll waits only for what is in transit).
  std::string Output() {
    std::string out;
    char buf[4096];
    pollfd p{screen, POLLIN, 0};
    while (::poll(&p, 1, 100) == 1) {
      ssize_t n = ::read(screen, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  termios Modes() const {
    termios t{};
    REQUIRE(::tcgetattr(terminal, &t) == 0);
    return t;
  }
  int screen = -1;
  int terminal = -1;
};

TEST_CASE("TerminalMode: enter, draw and restore on a pseudo-terminal", "[top]") {
  Pty pty;
  const termios before = pty.Modes();
  REQUIRE((before.c_lflag & ICANON) != 0);
  REQUIRE((before.c_lflag & ECHO) != 0);
  winsize ws{};
  ws.ws_row = 5;
  ws.ws_col = 33;
  REQUIRE(::ioctl(pty.terminal, TIOCSWINSZ, &ws) == 0);
  {
    auto mode = TerminalMode::Enter(pty.terminal, pty.terminal);
    REQUIRE(mode.ok());
    const termios raw = pty.Modes();
    CHECK((raw.c_lflag & ICANON) == 0);
    CHECK((raw.c_lflag & ECHO) == 0);
    CHECK((raw.c_lflag & ISIG) != 0);  // Ctrl-C stays a SIGINT
    CHECK(raw.c_cc[VSUSP] == _POSIX_VDISABLE);
    CHECK(pty.Output() == "\x1b[?1049h\x1b[?25l");
    CHECK((*mode)->WindowSize().columns == 33);
    CHECK((*mode)->WindowSize().rows == 5);

    REQUIRE((*mode)->Draw({"one", "", "three"}).ok());
    CHECK(pty.Output() == "\x1b[H\x1b[Kone\r\n\x1b[K\r\n\x1b[Kthree");

    (*mode)->Restore();
    CHECK(pty.Output() == "\x1b[?25h\x1b[?1049l");
    CHECK(pty.Modes().c_lflag == before.c_lflag);
    (*mode)->Restore();  // once only
  }                      // nor again in the destructor
  CHECK(pty.Output().empty());

  {
    auto mode = TerminalMode::Enter(pty.terminal, pty.terminal);
    REQUIRE(mode.ok());
  }  // the destructor restores
  CHECK(pty.Output() == "\x1b[?1049h\x1b[?25l\x1b[?25h\x1b[?1049l");
  const termios after = pty.Modes();
  CHECK(after.c_lflag == before.c_lflag);
  CHECK(after.c_cc[VSUSP] == before.c_cc[VSUSP]);
}

TEST_CASE("TerminalMode: a descriptor that is no terminal is refused, untouched", "[top]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  auto mode = TerminalMode::Enter(fds[0], fds[1]);
  REQUIRE_FALSE(mode.ok());
  CHECK(mode.error().code() == ErrorCode::kIo);
  CHECK_THAT(mode.error().message(), Catch::StartsWith("cannot read the terminal's settings"));
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace ferry::cli
