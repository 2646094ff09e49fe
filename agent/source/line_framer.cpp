// LineFramer: memchr over a window of at most max+2 bytes per record, so a huge line costs one pass.
#include "agent/source/line_framer.h"

#include <cstring>

namespace ferry {

std::size_t LineFramer::Frame(std::string_view bytes, std::uint64_t offset, std::vector<Record>& out,
                              FramingCounters& counters) const {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t left = bytes.size() - pos;
    // A record of max bytes may be followed by "\r\n", so look that far for its end.
    std::size_t window = left < max_ + 2 ? left : max_ + 2;
    const char* start = bytes.data() + pos;
    const void* nl = std::memchr(start, '\n', window);
    if (nl != nullptr) {
      std::size_t len = static_cast<const char*>(nl) - start;
      std::size_t content = (len > 0 && start[len - 1] == '\r') ? len - 1 : len;
      if (content <= max_) {
        pos += len + 1;
        if (content == 0) {
          ++counters.empty_lines;
        } else {
          out.push_back(Record{{start, content}, offset + pos});
          ++counters.records;
        }
        continue;
      }
    } else if (left < max_ + 2) {
      break;  // an unfinished line: wait for the rest
    }
    pos += max_;
    out.push_back(Record{{start, max_}, offset + pos});
    ++counters.records;
    ++counters.split_records;
  }
  return pos;
}

}  // namespace ferry
