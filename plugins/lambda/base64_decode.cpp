// Base64Decode: a table of the 64 digits, four characters to three bytes at a time.
#include "plugins/lambda/base64_decode.h"

#include <array>
#include <cstdint>

namespace ferry::plugins {
namespace {

constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> MakeTable() {
  std::array<std::uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  constexpr std::string_view digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < digits.size(); ++i)
    table[static_cast<unsigned char>(digits[i])] = static_cast<std::uint8_t>(i);
  return table;
}

constexpr std::array<std::uint8_t, 256> kDigits = MakeTable();

// text without its padding, when the padding is where it may be.
std::optional<std::string_view> Unpadded(std::string_view text) {
  if (text.size() % 4 == 0 && !text.empty()) {
    if (text.back() == '=') text.remove_suffix(1);
    if (text.back() == '=') text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) return std::nullopt;  // no byte count encodes to this
  return text;
}

}  // namespace

std::optional<std::size_t> Base64DecodedSize(std::string_view text) {
  auto digits = Unpadded(text);
  if (!digits) return std::nullopt;
  for (char c : *digits) {
    if (kDigits[static_cast<unsigned char>(c)] == kInvalid) return std::nullopt;
  }
  return digits->size() / 4 * 3 + (digits->size() % 4 == 0 ? 0 : digits->size() % 4 - 1);
}

bool AppendBase64Decoded(std::string& out, std::string_view text) {
  auto size = Base64DecodedSize(text);
  if (!size) return false;
  std::string_view digits = *Unpadded(text);
  const std::size_t at = out.size();
  out.resize(at + *size);
  char* o = out.data() + at;
  auto digit = [&](std::size_t i) {
    return static_cast<std::uint32_t>(kDigits[static_cast<unsigned char>(digits[i])]);
  };
  std::size_t i = 0;
  for (; i + 4 <= digits.size(); i += 4) {
    const std::uint32_t v = digit(i) << 18 | digit(i + 1) << 12 | digit(i + 2) << 6 | digit(i + 3);
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>(v >> 8);
    *o++ = static_cast<char>(v);
  }
  const std::size_t rest = digits.size() - i;
  if (rest >= 2) {
    std::uint32_t v = digit(i) << 18 | digit(i + 1) << 12;
    if (rest == 3) v |= digit(i + 2) << 6;
    *o++ = static_cast<char>(v >> 16);
    if (rest == 3) *o++ = static_cast<char>(v >> 8);
  }
  return true;
}

}  // namespace ferry::plugins
