// Start position: where reading of a newly found file begins, from the saved checkpoints.
//
// The rule, in order:
//  1. A checkpoint with the file's (device, inode) whose fingerprint still matches the file's first bytes:
//     resume at its offset, or at 0 if the file is now shorter than that (it was truncated while ferry was
//     away). If the fingerprint does not match, the inode was reused for new content: read from 0.
//  2. A checkpoint of another identity whose full fingerprint (kFingerprintBytes) matches the file's first
//     bytes and whose offset the file reaches: the same content under a new inode (a copytruncate copy, a
//     file moved across file systems): resume at its offset. Shorter fingerprints are not trusted for this,
//     since many files share a short header.
//  3. Otherwise a file never seen before: at its end if this is ferry's first start and start_at is end,
//     else at 0.
// Pure logic; the caller supplies the file facts and a prefix check. Any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/source/tailer_options.h"

namespace ferry {

enum class StartReason {
  kCheckpoint,           // rule 1
  kShrunkWhileAway,      // rule 1, file shorter than the checkpoint
  kContentChanged,       // rule 1, inode reused
  kCheckpointByContent,  // rule 2
  kStartAtEnd,           // rule 3, first start
  kNewFile,              // rule 3
};

std::string_view ToString(StartReason reason);

struct StartDecision {
  std::uint64_t offset = 0;
  StartReason reason = StartReason::kNewFile;
  std::ptrdiff_t checkpoint = -1;  // index of the checkpoint used or contradicted, -1 for none
};

struct FileFacts {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  // Whether the file's first fp.length bytes hash to fp.hash (false when the file is shorter).
  std::function<bool(const Fingerprint& fp)> prefix_matches;
};

// claimed[i] marks checkpoints already used by another file in this run; rule 2 skips them.
StartDecision DecideStart(const FileFacts& file, std::span<const FileCheckpoint> checkpoints,
                          const std::vector<bool>& claimed, bool first_start, StartAt start_at);

}  // namespace ferry
