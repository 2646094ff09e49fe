// Replacement: fixed text, masks that respect UTF-8 and separators, and HMAC-SHA256 tokens.
#include "plugins/redact/replacement.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "agent/core/whole_file.h"

namespace ferry::plugins::redact {

namespace {

bool IsContinuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

bool IsSeparator(unsigned char c) {
  // ASCII that is neither a letter nor a digit: spaces, dashes, dots, @ ...
  return c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
}

}  // namespace

Result<Replacement> Replacement::Make(const ReplaceSpec& spec) {
  Replacement r(spec);
  if (spec.kind != ReplaceSpec::Kind::kHash) return r;
  auto file = ReadWholeFile(spec.key_file, kMaxKeyBytes, "redact hash key_file");
  if (!file) return Error(ErrorCode::kInvalidArgument, file.error().message());
  if (file->too_large) {
    return Error(ErrorCode::kInvalidArgument, "redact hash key_file " + spec.key_file + ": larger than " +
                                                  std::to_string(kMaxKeyBytes) + " bytes; a key is one line");
  }
  if (file->bytes.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "redact hash key_file " + spec.key_file +
                     ": empty; an empty key would make every token guessable (e.g. head -c 32 /dev/urandom | "
                     "base64 > " +
                     spec.key_file + ")");
  }
  r.key_ = std::move(file->bytes);
  return r;
}

void Replacement::Append(std::string& out, std::string_view name, std::string_view value) const {
  switch (spec_.kind) {
    case ReplaceSpec::Kind::kFixed:
      out += spec_.text;
      return;
    case ReplaceSpec::Kind::kMask:
      AppendMask(out, value);
      return;
    case ReplaceSpec::Kind::kHash:
      AppendHash(out, name, value);
      return;
  }
}

void Replacement::AppendMask(std::string& out, std::string_view value) const {
  // Characters, not bytes: a UTF-8 sequence is one character, masked by one mask character or kept whole.
  auto maskable = [this](unsigned char c) { return !spec_.keep_separators || !IsSeparator(c); };
  std::size_t chars = 0;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (!IsContinuation(u) && maskable(u)) ++chars;
  }
  // Never more than half: a short secret with keep_last 4 must not come out whole.
  std::size_t keep = std::min<std::size_t>(spec_.keep_last, chars / 2);
  std::size_t seen = 0;
  bool keeping = false;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (IsContinuation(u)) {
      if (keeping) out += c;
      continue;
    }
    if (!maskable(u)) {
      keeping = true;  // a separator stays, and so do continuation bytes after it (none in ASCII)
      out += c;
      continue;
    }
    ++seen;
    keeping = seen > chars - keep;
    out += keeping ? c : spec_.mask_char;
  }
}

void Replacement::AppendHash(std::string& out, std::string_view name, std::string_view value) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac, &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  out += '[';
  out += name;
  out += ':';
  for (std::size_t i = 0; i < kHashHexDigits / 2; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xF];
  }
  out += ']';
}

}  // namespace ferry::plugins::redact
