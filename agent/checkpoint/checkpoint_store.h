// Checkpoint store: the files in which ferry remembers, per tailed file, the offset before which every
// byte is acknowledged, so a restart (clean, kill -9 or power loss) resumes without losing a line.
//
// One JSON file per flow, <state_dir>/checkpoints/<flow>.json:
//   {"version": 1, "flow": "web", "sequence": 42, "files": [{"dev": 2049, "ino": 1234,
//     "fingerprint": {"length": 1024, "hash": "0123456789abcdef"}, "path": "/var/log/x.log",
//     "offset": 4096, "updated": 1700000000}]}
// dev, ino, offset and sequence are unsigned 64-bit integers, updated is signed (unix seconds), path holds
// the file name's bytes as they are (not necessarily UTF-8). Members this version does not know are
// ignored; "sequence" may be missing (files of earlier versions: 0).
//
// Two kinds of write, to two files:
//   - durable, to <flow>.json: write <path>.tmp, fsync, rename, fsync the folder. After a crash or a power
//     loss at any moment the file is either the old or the new one, never a mix.
//   - recent, to <flow>.json.recent: write its .tmp and rename, no fsync. It survives a crash of the
//     process (the page cache keeps it), not necessarily a power loss, which may leave it empty or torn:
//     that is why it is a file of its own, and the durable one stays as it was.
// Every write carries a sequence number one higher than the last; at start the valid file with the higher
// number wins (LoadLatestCheckpoints). Any checkpoint ever written is safe to resume from (it names only
// acknowledged offsets); a newer one only re-sends less.
//
// Errors: kIo when the file system fails (message names the path and errno); kProtocol when the file's
// content is corrupt or of another version (message names the path and what is wrong), which callers
// answer with QuarantineCheckpoints; kInvalidArgument when asked to save a set that cannot be stored.
//
// Thread rules: free functions without shared state, callable from any thread. The ones that touch files
// block (fsync can take seconds on a slow card), so the daemon runs the writes on libuv's thread pool
// (checkpoint_writer.h). At most one caller may write or quarantine a given path at a time (the .tmp name is
// fixed); one ferry process owns a state_dir.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/checkpoint/fingerprint.h"
#include "agent/core/result.h"

namespace ferry {

inline constexpr int kCheckpointVersion = 1;
// A checkpoint file larger than this is treated as corrupt rather than read into memory.
inline constexpr std::uint64_t kMaxCheckpointFileBytes = 64ull << 20;

struct FileCheckpoint {
  std::uint64_t dev = 0, ino = 0;
  Fingerprint fingerprint;
  std::string path;          // last known path, for people and for the matching rule "same path"
  std::uint64_t offset = 0;  // every byte before it is acknowledged
  std::int64_t updated = 0;  // unix seconds
  bool operator==(const FileCheckpoint&) const = default;
};

struct CheckpointSet {
  std::string flow;
  std::vector<FileCheckpoint> files;
  std::uint64_t sequence = 0;  // one higher with every write; tells the newer of the two files
  bool operator==(const CheckpointSet&) const = default;
};

// The flow name as one safe file name: bytes outside [A-Za-z0-9._-] and a leading '.' are percent-encoded
// (%XX, upper-case hex), so the name is never hidden, ".", ".." or contains '/'; the empty name is "%"
// (which no other name produces). Names whose encoding is over 200 bytes are cut to 183 bytes plus '~'
// and 16 hex digits of the full name's SHA-256, to stay under NAME_MAX. Distinct flows get distinct names.
std::string EscapeFlowName(std::string_view flow);

// <state_dir>/checkpoints/<EscapeFlowName(flow)>.json (relative to the working folder if state_dir is "").
std::string CheckpointPath(std::string_view state_dir, std::string_view flow);

// Where the recent (not fsync'd) writes of the checkpoint file at `path` go: <path>.recent. No flow's
// checkpoint path ends that way (they all end in ".json").
std::string RecentCheckpointPath(const std::string& path);

// The JSON text SaveCheckpoints writes (pretty-printed, one trailing newline).
std::string SerializeCheckpoints(const CheckpointSet& set);

// Parses checkpoint JSON. `origin` (usually the file's path) starts every error message. Errors (kProtocol)
// give the byte offset of JSON syntax errors and the field path of wrong or missing fields, e.g.
// "files[3].offset: expected an unsigned integer".
Result<CheckpointSet> ParseCheckpoints(std::string_view text, std::string_view origin);

// Missing file (or missing folder) -> std::nullopt: the first start. Unreadable -> kIo; corrupt, too large,
// or another version -> kProtocol. Every error names the path.
Result<std::optional<CheckpointSet>> LoadCheckpoints(const std::string& path);

struct LatestCheckpoints {
  std::optional<CheckpointSet> set;  // std::nullopt: neither file exists (the first start)
  std::string read_from;             // the file `set` came from
  // The durable file could not be used (unreadable, corrupt: what LoadCheckpoints said) and the recent one
  // stood in for it. A kProtocol error here still calls for QuarantineCheckpoints(path).
  std::optional<Error> durable_error;
  // The recent file exists but was not used: damaged (as a power loss can leave it) or unreadable. For the
  // log. An older recent file is not a problem and not mentioned.
  std::string recent_problem;
};

// Loads <path> and RecentCheckpointPath(path) and returns the valid one with the higher sequence (the
// durable file when they are equal). A recent file that cannot be used is passed over (recent_problem
// says why). Errors: the durable file's (as LoadCheckpoints) when no valid recent file stands in for it;
// kProtocol, naming the recent file, when only a damaged recent file exists (never taken for a first
// start, which would apply start_at).
Result<LatestCheckpoints> LoadLatestCheckpoints(const std::string& path);

// Replaces `file` with `text` atomically: creates the folder (and missing parents) if needed, writes
// <file>.tmp (replacing one left by a crash) and renames it over `file`. durable: also fsyncs the .tmp
// before the rename and the folder after it. A failure before the rename removes the .tmp and leaves
// `file` as it was. Errors name the path and errno (ENOSPC included).
Status WriteCheckpointFile(const std::string& file, std::string_view text, bool durable);

// Atomic and durable: creates the folder (and missing parents) if needed, writes <path>.tmp (replacing one
// left by a crash), fsyncs it, renames it over `path`, fsyncs the folder. A failure before the rename
// removes the .tmp and leaves the previous file as it was; only the folder's fsync can fail after it (the
// new file is then in place, but may not survive a power loss). Errors name the path and errno (ENOSPC
// included). A fingerprint length over kFingerprintBytes is refused (kInvalidArgument), since
// LoadCheckpoints would reject it.
Status SaveCheckpoints(const std::string& path, const CheckpointSet& set);

// Moves a corrupt file aside to <path>.corrupt-<now>, kept for a human but not read again. If that name is
// taken (twice in one second), "-1", "-2", ... is appended. The new name goes to *moved_to if given.
Status QuarantineCheckpoints(const std::string& path, std::int64_t now, std::string* moved_to = nullptr);

}  // namespace ferry
