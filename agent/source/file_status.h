// FileStatus: what one input file of a source gave and where it stands, for `ferry status`, metrics and
// progress: offsets, sizes and per-file figures.
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

// What a file gave and what happened to it; kept per file and summed per flow.
struct FileFigures {
  std::uint64_t bytes_read = 0;
  std::uint64_t records = 0;               // records emitted (pieces of split records included)
  std::uint64_t oversize_records = 0;      // records over max_record_bytes (split or truncated)
  std::uint64_t rotations = 0;             // renames, truncations, and copytruncate copies continued
  std::uint64_t nul_records = 0;           // records holding NUL bytes (shipped unchanged)
  std::uint64_t invalid_utf8_records = 0;  // records that are not valid UTF-8 (shipped unchanged)
  std::uint64_t hole_bytes_skipped = 0;    // NUL bytes of a sparse hole at the start of a truncated file

  FileFigures& operator+=(const FileFigures& o);
};

// Per-file figures for status and metrics.
struct TailedFileStatus {
  std::string path;
  std::uint64_t offset = 0;     // read up to here
  std::uint64_t size = 0;       // at the last look
  std::uint64_t committed = 0;  // acknowledged up to here
  bool open = false;
  FileFigures figures;

  // Bytes in the file not read yet (at the last look).
  std::uint64_t bytes_behind() const { return size > offset ? size - offset : 0; }
};

}  // namespace ferry
