// Fuzz target: the checkpoint file parser (agent/checkpoint/checkpoint_store). A checkpoint file on disk may
// be torn, hand-edited or garbage, and must only ever produce an error. Whatever parses must also survive a
// round trip: serialized again, it parses to the same set. libFuzzer calls it on one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/checkpoint/checkpoint_store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ferry::ParseCheckpoints(text, "fuzz");
  if (!parsed.ok()) return 0;
  auto again = ferry::ParseCheckpoints(ferry::SerializeCheckpoints(*parsed), "fuzz");
  if (!again.ok() || !(*again == *parsed)) std::abort();
  return 0;
}
