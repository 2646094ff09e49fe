// KeyHash: the stable 64-bit hash sample and throttle put keys through: FNV-1a 64 of the key's bytes,
// then MurmurHash3's 64-bit finalizer (fmix64) so that every bit of the result depends on every byte
// (FNV-1a alone leaves its low bits, the ones `% N` reads, weakly mixed). The same on every host and
// every run, so a consumer can compute which keys a sample kept: keep when KeyHash(key) % rate == 0.
#pragma once

#include <cstdint>
#include <string_view>

namespace ferry::plugins {

constexpr std::uint64_t KeyHash(std::string_view key) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace ferry::plugins
