// HashKey: MD5 through libcrypto's EVP_Digest; decimal conversions through unsigned __int128 in this
// file only, where GCC and Clang both provide it on every 64-bit target ferry builds for.
#include "agent/kinesis/hash_key.h"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "agent/core/peer_text.h"

namespace ferry::kinesis {
namespace {

__extension__ using Wide = unsigned __int128;

Wide ToWide(HashKey key) {
  return (Wide{key.high} << 64) | key.low;
}
HashKey FromWide(Wide v) {
  return {static_cast<std::uint64_t>(v >> 64), static_cast<std::uint64_t>(v)};
}

// 2^128-1 has 39 digits; longer input is rejected before it is read, and quoted only in part.
constexpr std::size_t kMaxDigits = 39;
constexpr std::size_t kQuoteBytes = 48;

}  // namespace

HashKey HashKeyOf(std::string_view partition_key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(partition_key.data(), partition_key.size(), digest.data(), &len, EVP_md5(), nullptr) != 1 ||
      len != 16) {
    // Same stance as the SigV4 signer: a broken libcrypto would misroute every record from here on.
    std::fprintf(stderr, "ferry: libcrypto failure in MD5\n");
    std::abort();
  }
  HashKey key;
  for (std::size_t i = 0; i < 8; ++i) key.high = (key.high << 8) | digest[i];
  for (std::size_t i = 8; i < 16; ++i) key.low = (key.low << 8) | digest[i];
  return key;
}

Result<HashKey> ParseHashKey(std::string_view decimal) {
  if (decimal.empty())
    return Error(ErrorCode::kInvalidArgument, "hash key is empty, expected a decimal number");
  std::size_t first_significant = decimal.find_first_not_of('0');
  if (first_significant != std::string_view::npos && decimal.size() - first_significant > kMaxDigits) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("hash key '{}' has more than {} digits, beyond 2^128-1",
                             QuotePeerText(decimal, kQuoteBytes), kMaxDigits));
  }
  constexpr Wide kMax = ~Wide{0};
  Wide value = 0;
  for (std::size_t i = 0; i < decimal.size(); ++i) {
    char c = decimal[i];
    if (c < '0' || c > '9') {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("hash key '{}' has a non-digit at byte {}, expected a decimal number",
                               QuotePeerText(decimal, kQuoteBytes), i));
    }
    auto digit = static_cast<unsigned>(c - '0');
    if (value > (kMax - digit) / 10) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("hash key '{}' is beyond 2^128-1", QuotePeerText(decimal, kQuoteBytes)));
    }
    value = value * 10 + digit;
  }
  return FromWide(value);
}

std::string ToDecimal(HashKey key) {
  char digits[kMaxDigits];
  std::size_t at = sizeof digits;
  Wide v = ToWide(key);
  do {
    digits[--at] = static_cast<char>('0' + static_cast<unsigned>(v % 10));
    v /= 10;
  } while (v != 0);
  return std::string(digits + at, sizeof digits - at);
}

}  // namespace ferry::kinesis
