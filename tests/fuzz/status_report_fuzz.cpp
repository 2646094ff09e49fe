// Fuzz target: `ferry status` formatting what it read from the status socket (whatever answers there).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/ops/status_report_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)ferry::FormatStatusReport(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
