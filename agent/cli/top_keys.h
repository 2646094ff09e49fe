// The keys `ferry top` answers, decoded from the bytes a terminal in non-canonical mode sends: q (and
// Ctrl-C, should it arrive as a byte) quits, s and the arrow keys step through the sort columns, 1 to 5
// pick one, r reverses the order, ? shows or hides the keys. Pure; any thread.
#pragma once

#include <string_view>
#include <vector>

#include "agent/ops/top_model.h"

namespace ferry::cli {

struct TopKey {
  enum class Action { kQuit, kStepSort, kPickSort, kReverse, kHelp };
  Action action;
  int step = 0;                           // kStepSort: +1 or -1
  TopSortKey column = TopSortKey::kName;  // kPickSort
};

// Every key in bytes, in order; other bytes and escape sequences are ignored. An escape sequence split
// across two reads is lost (a terminal writes one key's sequence at once).
std::vector<TopKey> DecodeTopKeys(std::string_view bytes);

}  // namespace ferry::cli
