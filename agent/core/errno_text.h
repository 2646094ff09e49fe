// ErrnoText: an errno value as people read it and as they search for it, for every I/O error ferry reports.
#pragma once

#include <string>

namespace ferry {

// "No space left on device (ENOSPC)"; an unknown value reads "unknown error (errno N)".
std::string ErrnoText(int err);

}  // namespace ferry
