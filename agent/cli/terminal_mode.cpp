// TerminalMode: termios for the keys (ICANON and ECHO off, VMIN 1), and the xterm sequences every
// terminal emulator in use understands for the rest: ?1049 (alternate screen), ?25 (cursor), K and J
// (erase to the end of the line).
#include "agent/cli/terminal_mode.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "agent/core/errno_text.h"

namespace ferry::cli {
namespace {

constexpr std::string_view kEnterScreen = "\x1b[?1049h\x1b[?25l";  // alternate screen, cursor hidden
constexpr std::string_view kLeaveScreen = "\x1b[?25h\x1b[?1049l";

// Writes all of text; false when out cannot take it.
bool WriteAll(int out, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(out, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<TerminalMode>> TerminalMode::Enter(int in, int out) {
  termios saved{};
  if (::tcgetattr(in, &saved) != 0) {
    return Error(ErrorCode::kIo, fmt::format("cannot read the terminal's settings: {}", ErrnoText(errno)));
  }
  termios raw = saved;
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  raw.c_cc[VSUSP] = _POSIX_VDISABLE;
  raw.c_cc[VQUIT] = _POSIX_VDISABLE;
  if (::tcsetattr(in, TCSADRAIN, &raw) != 0) {
    return Error(ErrorCode::kIo, fmt::format("cannot change the terminal's settings: {}", ErrnoText(errno)));
  }
  std::unique_ptr<TerminalMode> mode(new TerminalMode(in, out, saved));
  WriteAll(out, kEnterScreen);  // a terminal that cannot take it fails the first Draw
  return mode;
}

TerminalMode::~TerminalMode() {
  Restore();
}

void TerminalMode::Restore() {
  if (!active_) return;
  active_ = false;
  // Settings first: if the screen cannot be written (the terminal hung up), they still come back.
  ::tcsetattr(in_, TCSADRAIN, &saved_);
  WriteAll(out_, kLeaveScreen);
}

TerminalMode::Size TerminalMode::WindowSize() const {
  winsize ws{};
  if (::ioctl(out_, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) return {};
  return {ws.ws_col, ws.ws_row};
}

Status TerminalMode::Draw(const std::vector<std::string>& lines) {
  // Each line is cleared before it is written: erasing after a line as wide as the window would take its
  // last character (the cursor waits on it to wrap).
  std::string frame = "\x1b[H";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    frame += "\x1b[K";
    frame += lines[i];
    if (i + 1 < lines.size()) frame += "\r\n";
  }
  if (!WriteAll(out_, frame)) {
    return Error(ErrorCode::kIo, fmt::format("cannot write to the terminal: {}", ErrnoText(errno)));
  }
  return Status::Ok();
}

}  // namespace ferry::cli
