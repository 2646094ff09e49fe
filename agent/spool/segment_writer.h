// SegmentWriter: appends entries to a new spool segment file. This header also defines the segment format,
// which segment_reader.h reads (LevelDB's log format is the model):
//
//   segment  := block* (the last block may be partial)
//   block    := fragment* trailer?            (kBlockSize bytes)
//   fragment := crc:u32le len:u16le type:u8 payload[len]
//   crc      := Mask(CRC32C(type byte, payload))
//   trailer  := 0 to kHeaderSize-1 zero bytes  (a block tail too short for a header)
//
// An entry is one FULL fragment, or FIRST MIDDLE* LAST. A fragment never crosses a block boundary, so a
// reader that meets damage resynchronises at the next block. Type 0 is never written: it marks zero-filled
// (preallocated, or lost on power failure) space.
//
// A writer only ever creates a segment (O_EXCL) and appends to it; it never reopens one. After a crash the
// spool starts a new segment, so a torn tail is only ever at the end of a segment nobody writes to again,
// and the reader reports it. One writer per file, used by one thread at a time: the spool moves it into
// each disk job it runs on libuv's thread pool and takes it back when the job is done (spool.h), so every
// blocking call here (open, pwrite, fdatasync, the folder's fsync, close) runs on a pool thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "agent/core/result.h"

namespace ferry::spool {

inline constexpr std::size_t kBlockSize = std::size_t{32} * 1024;
inline constexpr std::size_t kHeaderSize = 7;  // crc (4), length (2), type (1)
// Readers load a segment whole; writers refuse to grow one past this.
inline constexpr std::uint64_t kMaxSegmentBytes = 64u << 20;

enum class FragmentType : std::uint8_t {
  kZero = 0,  // reserved: zero-filled space, never written
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};

// Appends to *out the fragments (and any block trailer before them) of `entry` as written at segment
// offset `offset`; returns the offset just past them.
std::uint64_t FrameEntry(std::uint64_t offset, std::string_view entry, std::string* out);

// The number of bytes FrameEntry(offset, entry of entry_size bytes) appends (for sizes below 2^63).
std::uint64_t FramedSize(std::uint64_t offset, std::size_t entry_size);

// At least FramedSize(offset, entry_size) for every offset: what an entry may take before it is known
// where it will be written.
std::uint64_t MaxFramedSize(std::size_t entry_size);

// Whether an entry of entry_size bytes written at offset keeps the segment within kMaxSegmentBytes.
inline bool FitsInSegment(std::uint64_t offset, std::size_t entry_size) {
  return entry_size <= kMaxSegmentBytes && offset + FramedSize(offset, entry_size) <= kMaxSegmentBytes;
}

class SegmentWriter {
 public:
  // Makes written data durable: fdatasync(2) by default. Tests pass one that is slow or fails (it returns
  // -1 and sets errno then). Called on whichever thread calls Sync, so it must be safe on any thread.
  using SyncCall = std::function<int(int fd)>;

  // Creates the segment file `path` (mode 0640); fails if it exists. sync: see SyncCall (empty: fdatasync).
  static Result<SegmentWriter> Create(std::string path, SyncCall sync = {});

  SegmentWriter(SegmentWriter&& other) noexcept;
  SegmentWriter& operator=(SegmentWriter&& other) noexcept;
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;
  ~SegmentWriter();  // closes the file without syncing it

  // Whether an entry of entry_size bytes still fits within kMaxSegmentBytes; if not, start a new segment.
  bool Fits(std::size_t entry_size) const { return FitsInSegment(offset_, entry_size); }

  // Writes the framed entry at the segment's end, normally with one pwrite (not yet durable: see Sync). On a
  // failed write the partial entry is cut off again and the writer stays usable; if even that fails, or a
  // Sync failed, every later call returns the first error and the caller moves on to a new segment.
  Status Append(std::string_view entry);
  // As Append, for entries framed already: `framed` must be what FrameEntry appended for them starting at
  // offset() (the spool frames on the loop, so a pool thread only writes). All or nothing.
  Status AppendFramed(std::string_view framed);

  // Makes every appended entry durable (fdatasync; the first time also fsyncs the folder, so the new
  // file's name survives a crash too). After a failed Sync, entries since the last good one may be lost
  // (the kernel may have dropped the dirty pages), so the writer refuses further use.
  Status Sync();

  // Closes the file; reports a failed close (which may mean lost data on some file systems).
  Status Close();

  const std::string& path() const { return path_; }
  std::uint64_t offset() const { return offset_; }  // the segment's size: where the next entry starts

 private:
  SegmentWriter(std::string path, int fd, SyncCall sync)
      : path_(std::move(path)), fd_(fd), sync_(std::move(sync)) {}
  Error Fail(Error error);

  std::string path_;
  int fd_ = -1;
  SyncCall sync_;  // empty: fdatasync
  std::uint64_t offset_ = 0;
  bool folder_synced_ = false;
  std::string scratch_;          // framing buffer, reused by every Append
  std::optional<Error> failed_;  // the error that made the writer unusable
};

}  // namespace ferry::spool
