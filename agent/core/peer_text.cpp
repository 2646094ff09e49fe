// Peer text: byte-wise, no locale.
#include "agent/core/peer_text.h"

namespace ferry {

std::string QuotePeerText(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (char c : text.substr(0, max_bytes)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (text.size() > max_bytes) out += "...";
  return out;
}

bool IsVisibleAscii(std::string_view text) {
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace ferry
