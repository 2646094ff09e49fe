// Fuzz target: framing arbitrary file bytes into records. Checks the framer's own promises: records are
// non-empty views inside the input, never longer than the limit, with increasing end offsets that do not
// pass the consumed count.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "agent/source/line_framer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t max = 1 + data[0] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  ferry::LineFramer framer(max);
  std::vector<ferry::Record> records;
  ferry::FramingCounters counters;
  std::size_t consumed = framer.Frame(bytes, 1000, records, counters);
  if (consumed > bytes.size()) std::abort();
  std::uint64_t last = 1000;
  for (const auto& r : records) {
    if (r.data.empty() || r.data.size() > max) std::abort();
    if (r.data.data() < bytes.data() || r.data.data() + r.data.size() > bytes.data() + bytes.size())
      std::abort();
    if (r.end_offset <= last || r.end_offset > 1000 + consumed) std::abort();
    last = r.end_offset;
  }
  return 0;
}
