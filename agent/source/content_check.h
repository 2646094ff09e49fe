// ContentCheck: finds the records of a framed region that hold NUL bytes or are not valid UTF-8. ferry ships
// bytes as they are (Kinesis data is binary, and a redaction plugin must not guess at an encoding), but a
// consumer that expects text wants to know, so such records are counted per file and the first one logged.
//
// The whole region is checked first at memory speed (SIMD UTF-8 validation, memchr); records are looked at
// one by one only when the region has something to find. Pure; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "agent/core/batch.h"

namespace ferry {

struct ContentFindings {
  std::uint64_t nul_records = 0;
  std::uint64_t invalid_utf8_records = 0;
  std::uint64_t first_end_offset = 0;  // end offset of the first such record; meaningful if any was found

  bool any() const { return nul_records + invalid_utf8_records > 0; }
};

// `region` holds every byte the records were cut from (records are views into it, or into copies when a
// record was rebuilt, which are checked alike).
ContentFindings CheckContent(std::string_view region, std::span<const Record> records);

}  // namespace ferry
