// Fingerprint: SHA-256 through OpenSSL's EVP_Digest over a file's first bytes, read with pread(2).
// Stateless; any thread.
#include "agent/checkpoint/fingerprint.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "agent/core/errno_text.h"

namespace ferry {
namespace {

[[noreturn]] void CryptoFailure(const char* what) {
  std::fprintf(stderr, "ferry: libcrypto failure in %s\n", what);
  std::abort();
}

}  // namespace

std::uint64_t Sha256Prefix64(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 || len != 32) {
    CryptoFailure("SHA-256");
  }
  std::uint64_t hash = 0;
  for (std::size_t i = 0; i < 8; ++i) hash = (hash << 8) | digest[i];
  return hash;
}

Fingerprint FingerprintOf(std::string_view first_bytes) {
  if (first_bytes.size() > kFingerprintBytes) first_bytes = first_bytes.substr(0, kFingerprintBytes);
  return Fingerprint{static_cast<std::uint32_t>(first_bytes.size()), Sha256Prefix64(first_bytes)};
}

Result<Fingerprint> ReadFingerprint(int fd, std::uint32_t length) {
  if (length > kFingerprintBytes) length = kFingerprintBytes;
  std::array<char, kFingerprintBytes> buf;
  std::size_t have = 0;
  while (have < length) {
    ssize_t n = ::pread(fd, buf.data() + have, length - have, static_cast<off_t>(have));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(ErrorCode::kIo,
                   fmt::format("reading the first {} bytes for a fingerprint (fd {}): pread: {}", length, fd,
                               ErrnoText(errno)));
    }
    if (n == 0) break;  // the file is shorter than `length` now
    have += static_cast<std::size_t>(n);
  }
  return FingerprintOf(std::string_view(buf.data(), have));
}

Result<bool> MatchesPrefix(int fd, const Fingerprint& recorded) {
  if (recorded.length > kFingerprintBytes) return false;
  auto now = ReadFingerprint(fd, recorded.length);
  if (!now.ok()) return now.error();
  return now->length == recorded.length && now->hash == recorded.hash;
}

}  // namespace ferry
