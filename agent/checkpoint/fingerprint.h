// Fingerprint: identifies a tailed file by a hash of its first bytes, so a checkpoint is only applied to
// the content it was taken from. (device, inode) alone is not enough: inodes are reused after a delete,
// and a copied or restored file has a new inode but the same content.
//
// The hash is the first 8 bytes (big-endian) of SHA-256 over at most kFingerprintBytes bytes, so it is
// the same on every run and every machine and can be stored in checkpoint files.
//
// Thread rules: free functions without shared state; callable from any thread. ReadFingerprint and
// MatchesPrefix do a blocking pread(2) of at most kFingerprintBytes bytes, which the page cache usually
// answers at once.
#pragma once

#include <cstdint>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

inline constexpr std::uint32_t kFingerprintBytes = 1024;

struct Fingerprint {
  std::uint32_t length = 0;  // bytes hashed: min(file size, kFingerprintBytes) when taken
  std::uint64_t hash = 0;    // first 8 bytes (big-endian) of SHA-256 of those bytes
  bool operator==(const Fingerprint&) const = default;
};

// First 8 bytes (big-endian) of SHA-256 of `bytes` (any length).
std::uint64_t Sha256Prefix64(std::string_view bytes);

// Fingerprint of bytes already cut to the prefix to hash. Anything beyond kFingerprintBytes is ignored,
// so the result's length is never more than kFingerprintBytes.
Fingerprint FingerprintOf(std::string_view first_bytes);

// Reads the first min(length, kFingerprintBytes) bytes of the file at `fd` with pread(2) (the file
// offset is not moved) and fingerprints them. A file shorter than that is hashed as it is; the result's
// length says how many bytes were hashed. Errors (kIo) name the failing call and errno.
Result<Fingerprint> ReadFingerprint(int fd, std::uint32_t length);

// True when the file at `fd` could hold the same content `recorded` was taken from: it has at least
// recorded.length bytes and its first recorded.length bytes hash to recorded.hash. So a file that only
// grew since matches; one whose first bytes changed, or that is now shorter, does not. A recorded
// length over kFingerprintBytes can never match (no valid fingerprint has one).
Result<bool> MatchesPrefix(int fd, const Fingerprint& recorded);

}  // namespace ferry
