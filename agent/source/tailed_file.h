// The per-file state of FileTailer, shared by the files that implement it (file_tailer.cpp,
// tailer_rotation.cpp, tailer_checkpoints.cpp, tailer_retention.cpp, ...). Private to agent/source.
// Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "agent/checkpoint/fingerprint.h"
#include "agent/core/file_offset.h"
#include "agent/source/file_tailer.h"

namespace ferry {

// Arena block for what later stages add to a batch (partition keys of a few records); the read buffer, and
// the keys of a large batch, get blocks of their own size. Small, because thousands of files each holding a
// batch of a few lines must not hold a page each.
inline constexpr std::size_t kSmallBlockBytes = 256;

struct FileTailer::File {
  FileKey key;
  std::string path;
  int fd = -1;
  std::uint64_t offset = 0;  // next byte to read
  std::uint64_t size = 0;    // at the last look
  std::string carry;         // bytes of an unfinished record, read before offset
  FramerState framer;
  Fingerprint fingerprint;
  std::string
      prefix;  // the first bytes (up to kFingerprintBytes) while the file is open, to recognise copies
  bool undecided = false;  // found empty: where to start is decided when it has bytes
  bool filling = false;    // a copy continuing a truncated file, not yet as long as the original was read
  SourceId source = 0;
  std::uint64_t changed_at = 0;  // loop time of the last growth (or open)
  bool gone = false;             // no glob names it any more: drain, then close
  std::uint64_t gone_at = 0;
  bool held = false;  // a suspected copytruncate copy of copy_of, not read yet
  FileKey copy_of{};
  std::uint64_t held_at = 0;
  bool skip_hole = false;        // truncated: NUL bytes at its start are a writer's sparse hole, not data
  bool content_warned = false;   // NUL or invalid UTF-8 was logged for this file
  bool oversize_warned = false;  // an oversize record was logged for this file
  FileFigures figures;
  std::shared_ptr<const std::string> origin;  // the path as batches carry it (Origin())
};

// Where a shrunk file had got to, so the copy made just before the truncation can continue from there.
struct FileTailer::Truncation {
  FileKey original;
  std::string prefix;
  std::uint64_t offset = 0;
  std::string carry;
  FramerState framer;
  SourceId source = 0;
  std::uint64_t at = 0;
};

// A file no longer read (rotated out of the globs, or closed and gone) whose checkpoint entry stays until
// its watermark reaches read_to: until then a crash must be able to find it again and resume it.
struct FileTailer::Retained {
  FileKey key;
  Fingerprint fingerprint;
  std::string path;  // where it was last seen
  SourceId source = 0;
  std::uint64_t read_to = 0;  // everything read from it: its offset when it was forgotten
};

struct FileTailer::Watch {
  FileTailer* owner = nullptr;
  std::string dir;
  uv_fs_event_t handle{};
};

// The first n bytes of the file at fd (fewer if it is shorter), read with pread(2).
std::string ReadPrefix(int fd, std::size_t n);
// Whether two prefixes of files agree on all the bytes both have (and have some).
bool PrefixAgrees(std::string_view a, std::string_view b);
// Whether the file at fd still starts with `prefix` (at most kFingerprintBytes).
bool PrefixUnchanged(int fd, std::string_view prefix);

}  // namespace ferry
