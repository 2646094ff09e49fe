// Fuzz target: the spool entry decoder (agent/spool/spool_entry) on arbitrary bytes, as a damaged spool may
// hand it (the segment's checksum catches most damage, not a bug or a hostile file). Any input must yield
// records or an Error, never a crash or an allocation beyond the declared, bounded sizes. Whatever decodes
// must survive a round trip: encoded again (deterministically), it decodes to the same records.
// libFuzzer calls it on one thread.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "agent/spool/spool_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = ferry::spool::DecodeSpoolEntry(bytes);
  if (!decoded.ok()) {
    if (decoded.error().code() != ferry::ErrorCode::kProtocol) __builtin_trap();
    return 0;
  }
  std::span<const ferry::spool::SpoolRecord> records(*decoded);
  auto encoded = ferry::spool::EncodeSpoolEntry(records);
  if (!encoded.ok()) __builtin_trap();  // it decoded, so it fits
  auto again = ferry::spool::EncodeSpoolEntry(records);
  if (!again.ok() || *again != *encoded) __builtin_trap();
  auto round = ferry::spool::DecodeSpoolEntry(*encoded);
  if (!round.ok() || *round != *decoded) __builtin_trap();
  return 0;
}
