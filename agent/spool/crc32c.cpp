// CRC32C: the SSE4.2 path (compiled for that target only, so the rest of the build needs no -msse4.2),
// the slice-by-8 table fallback (tables built at compile time), and the one-time CPU check that picks.
#include "agent/spool/crc32c.h"

#include <array>
#include <cstddef>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ferry::spool::crc32c {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli, bit-reversed (RFC 3720 B.4)

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// kTables[0] is the byte-at-a-time table; kTables[k][i] is the CRC of byte i followed by k zero bytes,
// which lets the fallback fold 8 input bytes per step.
constexpr Tables MakeTables() {
  Tables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) != 0 ? (c >> 1) ^ kPolynomial : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

std::uint32_t LoadLe32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t ExtendSse42(std::uint32_t crc, const unsigned char* p,
                                                            std::size_t n) {
  std::uint32_t c = ~crc;
  for (; n > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7) != 0; --n) c = _mm_crc32_u8(c, *p++);
  std::uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);  // x86 is little-endian, as the instruction expects
    c64 = _mm_crc32_u64(c64, word);
  }
  c = static_cast<std::uint32_t>(c64);
  for (; n > 0; --n) c = _mm_crc32_u8(c, *p++);
  return ~c;
}
#endif

}  // namespace

std::uint32_t ExtendPortable(std::uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::uint32_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    c ^= LoadLe32(p);
    std::uint32_t hi = LoadLe32(p + 4);
    c = kTables[7][c & 0xff] ^ kTables[6][(c >> 8) & 0xff] ^ kTables[5][(c >> 16) & 0xff] ^
        kTables[4][c >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
        kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
  }
  for (; n > 0; --n) c = kTables[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

bool HardwareAvailable() {
#if defined(__x86_64__)
  static const bool available = __builtin_cpu_supports("sse4.2") != 0;
  return available;
#else
  return false;
#endif
}

std::uint32_t ExtendHardware(std::uint32_t crc, std::string_view data) {
#if defined(__x86_64__)
  if (HardwareAvailable()) {
    return ExtendSse42(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  }
#endif
  return ExtendPortable(crc, data);
}

std::uint32_t Extend(std::uint32_t crc, std::string_view data) {
  return HardwareAvailable() ? ExtendHardware(crc, data) : ExtendPortable(crc, data);
}

}  // namespace ferry::spool::crc32c
