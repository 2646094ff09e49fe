// TerminalMode: the terminal as a full-screen view needs it, and back. Enter saves the terminal's
// settings, turns off echo and line editing (keys arrive one by one), disables the suspend and quit
// characters (a stopped or dumped view would leave the terminal raw), switches to the alternate screen and
// hides the cursor; Restore (and the destructor) undo all of it, so every exit path that unwinds the owner
// restores the terminal. Ctrl-C still raises SIGINT: the owner handles it and unwinds.
//
// Owns no descriptors (in and out stay the caller's). Main thread only.
#pragma once

#include <termios.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/result.h"

namespace ferry::cli {

class TerminalMode {
 public:
  // in: the terminal keys come from (its settings change); out: where the screen is drawn. Errors (kIo)
  // when in is not a terminal or its settings cannot be changed; nothing has changed then.
  static Result<std::unique_ptr<TerminalMode>> Enter(int in, int out);
  ~TerminalMode();
  TerminalMode(const TerminalMode&) = delete;
  TerminalMode& operator=(const TerminalMode&) = delete;

  // Puts back what Enter changed; later calls do nothing.
  void Restore();

  // The window's size from TIOCGWINSZ on out; 80x24 when the terminal does not know it.
  struct Size {
    std::size_t columns = 80;
    std::size_t rows = 24;
  };
  Size WindowSize() const;

  // Draws lines from the top-left corner, each over what was there. Lines must fit the width, and there
  // should be as many as the window has rows (fewer leave the rest as it was; more scroll). kIo when out
  // cannot be written.
  Status Draw(const std::vector<std::string>& lines);

 private:
  TerminalMode(int in, int out, const termios& saved) : in_(in), out_(out), saved_(saved) {}

  int in_;
  int out_;
  termios saved_;
  bool active_ = true;
};

}  // namespace ferry::cli
