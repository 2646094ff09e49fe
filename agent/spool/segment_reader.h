// SegmentReader: reads a spool segment's entries back in order (the format is in segment_writer.h). It
// works on the whole segment in memory (LoadSegment reads one; segments are at most kMaxSegmentBytes).
//
// Damage never stops it: a bad checksum, an impossible length or type, a broken fragment sequence, a
// zero-filled hole or a truncated tail is reported as a SegmentCorruption, the reader resynchronises at the
// next block, and every intact entry before and after is still returned. An entry is returned only if all
// its fragments are intact and in sequence, so the pieces of a damaged entry are never glued to another's.
// Zero bytes from some point to the end of the file (preallocated space, or pages lost on power failure) end
// the segment cleanly; stats() records where they begin. Not thread-safe; one reader per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "agent/core/result.h"

namespace ferry::spool {

// Bytes of a segment that held no entry the reader could return, and why.
struct SegmentCorruption {
  std::string segment;       // the name the reader was given (the path, for a file)
  std::uint64_t offset = 0;  // where the skipped bytes begin (the FIRST fragment, if an entry was lost)
  std::uint64_t bytes = 0;   // how many bytes were skipped
  std::string reason;
};

struct SegmentReadStats {
  std::uint64_t entries = 0;
  std::uint64_t corruptions = 0;
  std::uint64_t bytes_skipped = 0;     // the sum of the corruptions' bytes
  std::uint64_t zero_tail_bytes = 0;   // zero bytes that ran to the end of the segment (0: none)
  std::uint64_t zero_tail_offset = 0;  // where they began
};

enum class ReadEvent {
  kEntry,       // *entry holds the next entry
  kCorruption,  // *corruption says what was skipped; reading goes on
  kEnd,         // the segment is done (and stays done)
};

class SegmentReader {
 public:
  // `bytes` is the whole segment and must outlive the reader; `name` labels corruption reports.
  SegmentReader(std::string_view bytes, std::string name) : data_(bytes), name_(std::move(name)) {}

  // Moves to the next entry or the next damage. Either pointer may be null to ignore that output.
  // Terminates: every call that does not return kEnd consumes input or drops a partial entry.
  ReadEvent Next(std::string* entry, SegmentCorruption* corruption);

  // The byte range of the entry Next returned last: its first fragment's offset, and just past its last.
  std::uint64_t entry_offset() const { return entry_offset_; }
  std::uint64_t entry_end() const { return entry_end_; }

  const SegmentReadStats& stats() const { return stats_; }

 private:
  ReadEvent Report(std::uint64_t from, std::uint64_t to, std::string reason, SegmentCorruption* out);

  std::string_view data_;
  std::string name_;
  std::uint64_t pos_ = 0;
  bool pending_ = false;  // inside an entry: FIRST (and MIDDLEs) seen, LAST not yet
  std::uint64_t pending_start_ = 0;
  std::string scratch_;  // the pending entry's payload so far
  std::uint64_t entry_offset_ = 0;
  std::uint64_t entry_end_ = 0;
  SegmentReadStats stats_;
};

// Reads the segment file `path` whole, into buffer's memory if it has room (the spool allocates it on the
// loop and reads on a pool thread). Fails (naming the path and errno text) if it cannot be read, is not a
// regular file, or is larger than kMaxSegmentBytes.
Result<std::string> LoadSegment(const std::string& path, std::string buffer = {});

}  // namespace ferry::spool
