// RandomPartitionKeys: the default partition key, random per record, so records spread evenly over shards.
// Keys are written where the caller says (the batch arena). Seeded once per instance; not for cryptography.
#pragma once

#include <cstdint>
#include <string_view>

namespace ferry::kinesis {

class RandomPartitionKeys {
 public:
  // 16 hex digits: 64 random bits, far more than needed to spread MD5 hash keys over any shard count.
  static constexpr std::size_t kKeyBytes = 16;

  RandomPartitionKeys();
  explicit RandomPartitionKeys(std::uint64_t seed) : state_(seed) {}

  // Writes one key of kKeyBytes at out.
  void Next(char* out);

 private:
  std::uint64_t state_;  // splitmix64
};

}  // namespace ferry::kinesis
