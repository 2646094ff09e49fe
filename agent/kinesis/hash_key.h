// HashKey: the 128-bit number Kinesis routes a record by. A record goes to the open shard whose
// HashKeyRange holds MD5(partition key) read as a big-endian unsigned integer, or its explicit hash
// key when it has one. ListShards and PutRecords spell these numbers in decimal, 0..2^128-1.
// Pure values and functions: no state, safe from any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry::kinesis {

// Two 64-bit halves rather than unsigned __int128, which is a compiler extension; `high` is declared
// first so the defaulted comparison orders keys as the numbers they are.
struct HashKey {
  std::uint64_t high = 0;
  std::uint64_t low = 0;

  static constexpr HashKey Min() { return {}; }
  static constexpr HashKey Max() { return {~std::uint64_t{0}, ~std::uint64_t{0}}; }

  friend constexpr auto operator<=>(const HashKey&, const HashKey&) = default;
};

// MD5 of the partition key's bytes (ferry's keys are UTF-8 already, as Kinesis wants), big-endian.
// Costs one libcrypto digest call; stops the process if libcrypto cannot compute MD5 (a provider
// configuration without it), since every routing decision after that would be wrong.
HashKey HashKeyOf(std::string_view partition_key);

// Decimal digits only (leading zeros allowed), at most 2^128-1; anything else is a kInvalidArgument
// error that says what is wrong.
Result<HashKey> ParseHashKey(std::string_view decimal);

// Shortest decimal spelling, as Kinesis writes it: "0", "340282366920938463463374607431768211455".
std::string ToDecimal(HashKey key);

}  // namespace ferry::kinesis
