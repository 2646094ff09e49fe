// RenderTopScreen: the text of one `ferry top` screen for a terminal of a given size: a header with the
// daemon's facts, a table of flows, the files most behind, and a line of keys. Every line fits the width
// (cut, never wrapped) and there are exactly as many lines as the terminal has rows, so drawing it never
// scrolls. Pure; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/core/units.h"
#include "agent/ops/top_model.h"

namespace ferry {

struct TopScreenSize {
  std::size_t columns = 80;
  std::size_t rows = 24;
};

struct TopScreenState {
  std::string socket_path;        // named while there is nothing else to show
  const TopView* view = nullptr;  // none: no reply yet, or the last attempt failed
  std::string unreachable;        // why the last attempt failed; empty when it did not
  TopSort sort;
  bool help = false;  // the keys line lists every key
  Duration interval = std::chrono::seconds(1);
};

// Lines of text without line ends, at most size.columns terminal columns each (a code point counts one
// column). Names and paths have control characters replaced by '?', as ls does.
std::vector<std::string> RenderTopScreen(const TopScreenState& state, TopScreenSize size);

}  // namespace ferry
