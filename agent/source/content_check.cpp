// ContentCheck: a region-wide fast path, then per-record counting.
#include "agent/source/content_check.h"

#include <cstring>

#include <simdjson.h>

namespace ferry {
namespace {

bool HasNul(std::string_view s) {
  return !s.empty() && std::memchr(s.data(), '\0', s.size()) != nullptr;
}

}  // namespace

ContentFindings CheckContent(std::string_view region, std::span<const Record> records) {
  ContentFindings found;
  if (!HasNul(region) && simdjson::validate_utf8(region.data(), region.size())) {
    // Every record is a piece of the region cut at a newline or at a size limit, so the records are clean
    // too, except a piece cut inside a multi-byte character, which the per-record pass would flag.
    bool may_cut = false;
    for (const Record& r : records) {
      if (!r.data.empty() && (static_cast<unsigned char>(r.data.back()) & 0x80) != 0) {
        may_cut = true;
        break;
      }
    }
    if (!may_cut) return found;
  }
  for (const Record& r : records) {
    bool nul = HasNul(r.data);
    bool bad = !simdjson::validate_utf8(r.data.data(), r.data.size());
    if ((nul || bad) && !found.any()) found.first_end_offset = r.end_offset;
    found.nul_records += nul ? 1 : 0;
    found.invalid_utf8_records += bad ? 1 : 0;
  }
  return found;
}

}  // namespace ferry
