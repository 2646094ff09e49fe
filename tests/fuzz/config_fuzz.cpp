// Fuzz target: ferry.yaml parsing and validation. Any input must yield a Config or an Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = ferry::config::ParseConfig(text, "fuzz.yaml");
  if (config) (void)ferry::config::DescribeConfig(*config);
  return 0;
}
