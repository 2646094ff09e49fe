// ErrnoText: glibc's description and name of an errno value.
#include "agent/core/errno_text.h"

#include <cstring>

#include <fmt/format.h>

namespace ferry {

std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  const char* text = strerrordesc_np(err);
  return fmt::format("{} ({})", text != nullptr ? text : "unknown error",
                     name != nullptr ? name : fmt::format("errno {}", err));
}

}  // namespace ferry
