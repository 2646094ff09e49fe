// Replacement: what a secret becomes: a fixed string, a mask that keeps the last characters, or an
// HMAC-SHA256 pseudonym ("[email:1f3a9c0b7d2e4a68]": same key and value, same token, so analysts can still
// join on it without seeing it).
//
// ReplaceSpec is the configured form (plain data, from the options); Replacement is made from it once per
// plugin (reading the hash key file then) and appends the replacement of one value to a string, allocating
// nothing once that string has grown. Immutable once made; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry::plugins::redact {

struct ReplaceSpec {
  enum class Kind { kFixed, kMask, kHash };
  Kind kind = Kind::kFixed;
  std::string text = "[REDACTED]";  // kFixed
  std::uint64_t keep_last = 0;      // kMask: trailing characters left as they are
  char mask_char = '*';             // kMask
  bool keep_separators = true;      // kMask: punctuation and spaces stay, only letters and digits are masked
  std::string key_file;             // kHash
};

// Hex digits of the HMAC in a token: 64 bits, so two values collide by chance once in 2^32 pairs.
inline constexpr std::size_t kHashHexDigits = 16;
// The key file may hold at most this many bytes (a key is 32 bytes or so; this refuses /dev/zero).
inline constexpr std::size_t kMaxKeyBytes = 4096;

class Replacement {
 public:
  // Reads the key file of a kHash spec: refused when it cannot be read, is empty or is too large, with
  // an error naming the file.
  static Result<Replacement> Make(const ReplaceSpec& spec);

  // Appends what value (a secret found by the pattern called name) becomes to out.
  void Append(std::string& out, std::string_view name, std::string_view value) const;

  const ReplaceSpec& spec() const { return spec_; }

 private:
  explicit Replacement(ReplaceSpec spec) : spec_(std::move(spec)) {}
  void AppendMask(std::string& out, std::string_view value) const;
  void AppendHash(std::string& out, std::string_view name, std::string_view value) const;

  ReplaceSpec spec_;
  std::string key_;
};

}  // namespace ferry::plugins::redact
