// RandomPartitionKeys: splitmix64 is tiny, fast and well distributed, which is all a partition key needs.
#include "agent/kinesis/partition_keys.h"

#include <random>

namespace ferry::kinesis {

RandomPartitionKeys::RandomPartitionKeys() {
  std::random_device device;
  state_ = (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

void RandomPartitionKeys::Next(char* out) {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < kKeyBytes; ++i) out[i] = kHex[(z >> (4 * i)) & 0xF];
}

}  // namespace ferry::kinesis
