// Fuzz target: the lambda plugin reading a transformation function's answer line, which any program (or a
// handler's bug) writes. The first byte picks how many records the request had; the rest is the line.
// A response that parses has one outcome per request record, and each Ok record's bytes lie within the
// decoded data.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plugins/lambda/lambda_response.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t count = data[0] % 16;
  const std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto response = ferry::plugins::ParseLambdaResponse(line, count);
  if (!response.ok()) return 0;
  if (response->records.size() != count) __builtin_trap();
  for (std::size_t i = 0; i < count; ++i) {
    const auto& r = response->records[i];
    if (r.result == ferry::plugins::LambdaResult::kOk && r.offset + r.size > response->data.size())
      __builtin_trap();
    if (r.result == ferry::plugins::LambdaResult::kFailed && r.reason.empty()) __builtin_trap();
  }
  return 0;
}
