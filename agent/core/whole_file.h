// ReadWholeFile: the bytes of one regular file, bounded, for the state files ferry reads whole (checkpoint
// files, spool segments). Errors begin with `what` and the path ("checkpoint file /var/lib/ferry/...:
// opening: Permission denied (EACCES)"); ENOENT is kNotFound, so a caller can tell "never written" apart.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

struct WholeFile {
  std::string bytes;
  bool too_large = false;  // it holds, or grew while being read to, more than max_bytes (bytes is empty)
};

// buffer: memory to read into (its capacity is reused), e.g. allocated by the thread that hands the read
// to another one.
Result<WholeFile> ReadWholeFile(const std::string& path, std::size_t max_bytes, std::string_view what,
                                std::string buffer = {});

}  // namespace ferry
