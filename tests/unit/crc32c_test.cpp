// Tests of CRC32C (agent/spool/crc32c): the RFC 3720 B.4 vectors and the standard check value on both the
// SSE4.2 path and the table fallback, the two agreeing on every length and alignment, Extend composing,
// and Mask/Unmask. Where the CPU lacks SSE4.2 the hardware checks are skipped with a warning.
#include "agent/spool/crc32c.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::spool {
namespace {

struct Vector {
  std::string data;
  std::uint32_t crc = 0;
};

std::vector<Vector> Vectors() {
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) descending[i] = static_cast<char>(31 - i);
  return {
      {"123456789", 0xE3069283u},            // the CRC catalogue's check value
      {std::string(32, '\0'), 0x8A9136AAu},  // RFC 3720 B.4
      {std::string(32, '\xff'), 0x62A8AB43u},
      {ascending, 0x46DD794Eu},
      {descending, 0x113FDB5Cu},
      {"", 0u},
  };
}

TEST_CASE("CRC32C matches the RFC 3720 vectors on every path", "[spool]") {
  for (const auto& v : Vectors()) {
    INFO("input of " << v.data.size() << " bytes");
    CHECK(crc32c::Value(v.data) == v.crc);
    CHECK(crc32c::ExtendPortable(0, v.data) == v.crc);
    CHECK(crc32c::ExtendHardware(0, v.data) == v.crc);
  }
  if (!crc32c::HardwareAvailable()) WARN("no SSE4.2 on this CPU: the hardware path fell back to the table");
}

TEST_CASE("CRC32C hardware and table paths agree on every length and alignment", "[spool]") {
  std::mt19937 rng(7);
  std::string buf(4096 + 16, '\0');
  for (auto& c : buf) c = static_cast<char>(rng());
  for (std::size_t align = 0; align < 8; ++align) {
    for (std::size_t len = 0; len <= 300; ++len) {
      std::string_view data(buf.data() + align, len);
      REQUIRE(crc32c::ExtendPortable(0, data) == crc32c::ExtendHardware(0, data));
    }
    std::string_view big(buf.data() + align, 4096);
    REQUIRE(crc32c::ExtendPortable(0x12345678u, big) == crc32c::ExtendHardware(0x12345678u, big));
  }
}

TEST_CASE("CRC32C Extend continues a CRC over split input", "[spool]") {
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over to pass eight bytes.";
  const std::uint32_t whole = crc32c::Value(text);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    std::string_view a(text.data(), cut);
    std::string_view b(text.data() + cut, text.size() - cut);
    REQUIRE(crc32c::Extend(crc32c::Value(a), b) == whole);
    REQUIRE(crc32c::ExtendPortable(crc32c::ExtendPortable(0, a), b) == whole);
    REQUIRE(crc32c::ExtendHardware(crc32c::ExtendHardware(0, a), b) == whole);
  }
}

TEST_CASE("CRC32C Mask changes the value and Unmask restores it", "[spool]") {
  const std::uint32_t crc = crc32c::Value("foo");
  CHECK(crc32c::Mask(crc) != crc);
  CHECK(crc32c::Mask(crc32c::Mask(crc)) != crc);
  CHECK(crc32c::Unmask(crc32c::Mask(crc)) == crc);
  CHECK(crc32c::Unmask(crc32c::Unmask(crc32c::Mask(crc32c::Mask(crc)))) == crc);
  for (std::uint32_t v : {0u, 1u, 0xffffffffu, 0x80000000u, 0xa282ead8u})
    CHECK(crc32c::Unmask(crc32c::Mask(v)) == v);
}

}  // namespace
}  // namespace ferry::spool
