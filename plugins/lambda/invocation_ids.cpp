// InvocationIds: 128 random bits, with the version (4) and the variant (10) set as RFC 9562 says.
#include "plugins/lambda/invocation_ids.h"

namespace ferry::plugins {

std::string InvocationIds::Next() {
  std::uint64_t hi = random_();
  std::uint64_t lo = random_();
  hi = (hi & ~(std::uint64_t{0xf} << 12)) | (std::uint64_t{4} << 12);  // version 4
  lo = (lo & ~(std::uint64_t{0x3} << 62)) | (std::uint64_t{2} << 62);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(kLength);
  auto put = [&](std::uint64_t bits, int from_nibble, int nibbles) {
    for (int n = from_nibble; n > from_nibble - nibbles; --n) id.push_back(kHex[(bits >> (4 * n)) & 0xf]);
  };
  put(hi, 15, 8);
  id.push_back('-');
  put(hi, 7, 4);
  id.push_back('-');
  put(hi, 3, 4);
  id.push_back('-');
  put(lo, 15, 4);
  id.push_back('-');
  put(lo, 11, 12);
  return id;
}

}  // namespace ferry::plugins
