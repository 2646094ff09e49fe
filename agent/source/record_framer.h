// RecordFramer: cuts the bytes read from a file into records: one line each, or, with a multiline start
// pattern, one record per group of lines (a start line and the lines after it that do not match, such as
// a Java stack trace). Replaces LineFramer.
//
// Lines: "\n" ends a line and a "\r" right before it is dropped with it (CRLF). Bytes are bytes: NUL and
// invalid UTF-8 pass through. Empty records carry nothing to ship: they are counted, not emitted.
// Records longer than max_record_bytes are split into pieces of that size, or truncated (the first max
// bytes are kept, the rest of that record is consumed and dropped). The first skip_header_lines lines of
// a file read from offset 0 are consumed without records.
//
// Framing is streaming: Frame() takes the caller's carry (the bytes it did not consume last time) followed
// by new bytes, consumes what it can decide, and remembers in the file's FramerState what it already knows
// about the carry, so no line is matched twice and the lines of a pending record are not scanned again.
// The records and counters do not depend on where reads happen to end. The carry stays bounded: at most
// max+1 bytes in single-line mode, at most 2*max+2 in multiline mode.
//
// Threads: a RecordFramer is immutable once created; its const methods may be called from any thread at
// once (RE2 matching is thread-safe) and copies share the compiled pattern. A FramerState belongs to one
// file and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/result.h"

namespace re2 {
class RE2;
}

namespace ferry {

enum class Oversize {
  kSplit,     // a record longer than the limit becomes several records of at most max bytes
  kTruncate,  // the first max bytes become the record; the rest of that record is dropped
};

struct FramerOptions {
  std::size_t max_record_bytes = 1 << 20;
  Oversize oversize = Oversize::kSplit;
  // RE2 pattern a line must match (RE2::PartialMatch on the line without its terminator; anchor with ^)
  // to start a record; empty: one line per record. The pattern sees at most the first max_record_bytes
  // bytes of a line.
  std::string multiline_start;
  std::size_t skip_header_lines = 0;  // lines skipped at the start of every file read from offset 0
};

struct FramingCounters {
  std::uint64_t records = 0;            // records emitted (pieces included)
  std::uint64_t empty_lines = 0;        // empty records, not emitted
  std::uint64_t split_records = 0;      // extra pieces cut from records longer than the limit
  std::uint64_t truncated_records = 0;  // records cut to the limit in truncate mode
  std::uint64_t truncated_bytes = 0;    // record bytes dropped by truncation (final terminators not counted)
  std::uint64_t header_lines = 0;       // header lines skipped
  std::uint64_t multiline_records = 0;  // records of more than one line, counted when the second is seen

  FramingCounters& operator+=(const FramingCounters& o);
};

// Per-file framing state, kept by the tailer next to its carry and passed to every call for that file.
// Only the framer changes it; start a new one (NewFileState) for a new or truncated file.
struct FramerState {
  std::size_t header_lines_left = 0;  // header lines still to skip
  bool dropping = false;              // inside a truncated record: its remaining bytes are skipped

  // What the framer knows about the carry; internal to RecordFramer.
  enum class Open : std::uint8_t {
    kNone,
    kLine,   // a record of one line: single-line mode, or a line before the first start line
    kMulti,  // a multiline record: held at the start of the carry (or dropped) until the next start line
  };
  Open open = Open::kNone;
  bool in_line = false;        // scanning stopped inside a line whose fate is decided
  bool multi = false;          // the open multiline record has more than one line (already counted)
  std::uint8_t drop_term = 0;  // terminator bytes of the last dropped line: counted if a continuation follows
  std::size_t scanned = 0;     // bytes at the start of the carry already scanned; scanning resumes there
};

class RecordFramer {
 public:
  // Fails (kInvalidArgument) when max_record_bytes is 0 or absurdly large, or when multiline_start does
  // not compile; the message names the pattern and RE2's reason.
  static Result<RecordFramer> Create(FramerOptions options);

  const FramerOptions& options() const { return options_; }
  bool multiline() const { return start_ != nullptr; }

  // State for a file that is starting to be read; header lines are skipped only when it is read from
  // offset 0.
  FramerState NewFileState(bool from_start) const;

  // bytes = the carry from last time followed by new bytes; `offset` = file offset of bytes[0]. Appends
  // records (views into bytes) to out and returns how many bytes are consumed: every consumed byte is in a
  // record or deliberately skipped (header lines, empty lines, truncated tails, line terminators). The
  // caller keeps bytes[consumed..] as its carry and passes it first next time, with the same state.
  // Unfinished lines, and in multiline mode the record being built, stay in the carry.
  std::size_t Frame(std::string_view bytes, std::uint64_t offset, FramerState& state,
                    std::vector<Record>& out, FramingCounters& counters) const;

  // The file went quiet (partial-line or multiline timeout) or is gone: frames bytes as if the data ended
  // there. The unfinished last line (all its bytes, a final "\r" included) and the pending multiline record
  // become records. Consumes everything and leaves the state ready for whatever the file brings next
  // (header lines still to skip stay to skip).
  std::size_t Flush(std::string_view bytes, std::uint64_t offset, FramerState& state,
                    std::vector<Record>& out, FramingCounters& counters) const;

  // Whether a multiline record is open: held at the start of the carry until the next start line (or, once
  // truncated, having its tail skipped). The tailer arms its multiline timeout while this is true, and
  // otherwise its partial-line timeout while the carry is not empty; either ends in Flush().
  bool HasPendingRecord(const FramerState& state) const { return state.open == FramerState::Open::kMulti; }

 private:
  class Pass;

  RecordFramer(FramerOptions options, std::shared_ptr<const re2::RE2> start)
      : options_(std::move(options)), start_(std::move(start)) {}

  std::size_t Run(std::string_view bytes, std::uint64_t offset, FramerState& state, std::vector<Record>& out,
                  FramingCounters& counters, bool at_end) const;

  FramerOptions options_;
  std::shared_ptr<const re2::RE2> start_;  // null in single-line mode
};

}  // namespace ferry
