// NamedCounter: one counter or gauge by its name, the unit in which every stage reports its figures to
// `ferry status` and the log (names are fixed strings of the stage, so a view is enough).
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

namespace ferry {

using NamedCounter = std::pair<std::string_view, std::uint64_t>;

}  // namespace ferry
