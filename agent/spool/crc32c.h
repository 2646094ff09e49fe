// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of spool segment fragments.
// Uses the SSE4.2 crc32 instruction when the CPU has it, else a slice-by-8 table; both give the same
// values. Mask/Unmask follow LevelDB: a CRC stored next to data that itself contains CRCs is masked, so the
// CRC of a string holding its own CRC is not trivially predictable. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace ferry::spool::crc32c {

// The CRC32C of the concatenation of A and data, given crc = CRC32C(A). Extend(0, data) = Value(data).
std::uint32_t Extend(std::uint32_t crc, std::string_view data);

inline std::uint32_t Value(std::string_view data) {
  return Extend(0, data);
}

inline constexpr std::uint32_t kMaskDelta = 0xa282ead8u;  // LevelDB's

// Rotates right by 15 bits and adds kMaskDelta.
inline std::uint32_t Mask(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

inline std::uint32_t Unmask(std::uint32_t masked) {
  std::uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// The two implementations behind Extend, exposed so tests can check each against the other.
// ExtendHardware uses the instruction when HardwareAvailable() and the table otherwise.
bool HardwareAvailable();
std::uint32_t ExtendHardware(std::uint32_t crc, std::string_view data);
std::uint32_t ExtendPortable(std::uint32_t crc, std::string_view data);

}  // namespace ferry::spool::crc32c
