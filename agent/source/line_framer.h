// LineFramer: cuts bytes read from a file into newline-delimited records.
// "\n" ends a record and a "\r" before it is dropped (CRLF files). A line longer than max_record_bytes
// is split into records of that size. Empty lines carry nothing to ship and are counted, not sent.
// Bytes are bytes: NUL and invalid UTF-8 pass through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/core/batch.h"

namespace ferry {

struct FramingCounters {
  std::uint64_t records = 0;
  std::uint64_t empty_lines = 0;
  std::uint64_t split_records = 0;  // pieces cut from lines longer than the limit
};

class LineFramer {
 public:
  explicit LineFramer(std::size_t max_record_bytes) : max_(max_record_bytes) {}

  // Appends the records found in bytes, which start at file offset `offset`, to out. Returns how many
  // bytes were consumed; the caller keeps the rest (an unfinished line) and passes it again with more.
  std::size_t Frame(std::string_view bytes, std::uint64_t offset, std::vector<Record>& out,
                    FramingCounters& counters) const;

 private:
  std::size_t max_;
};

}  // namespace ferry
