// Peer text: byte-wise, no locale.
#include "agent/core/peer_text.h"

namespace ferry {

std::string QuotePeerText(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (char c : text.substr(0, max_bytes)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (text.size() > max_bytes) out += "...";
  return out;
}

std::string CutPeerText(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  // Back off the continuation bytes (10xxxxxx) of a character the cut would split; a character has at
  // most three, and a longer run is not UTF-8 anyway.
  for (int k = 0; k < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0u) == 0x80u; ++k) --end;
  return std::string(text.substr(0, end)) + "...";
}

bool IsVisibleAscii(std::string_view text) {
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace ferry
