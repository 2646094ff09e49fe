// FileTailer: finds the files of one flow, follows them as they grow and rotate, frames what it reads
// into batches for the next stage, and keeps the flow's checkpoints.
//
// Identity. A file is known by (device, inode) plus a fingerprint of its first bytes (up to 1 KiB), so a
// renamed file keeps its place and is drained from its open descriptor to the end, and a reused inode or
// a copy is recognised.
//
// Rotation. rename+create: the old inode is followed under its new name, or, when no glob names it any
// more, drained to its end and closed; the new file is read from 0. copytruncate: the copy (a new inode
// whose first bytes equal the live file's) is held back; when the live file shrinks, the copy continues
// from the offset the live file had reached, with its unfinished line, and the truncated file is read from
// 0. Deletion while reading: drained from the descriptor. Truncation in place: read again from 0. A
// symlink swap is a change of identity behind the same path.
//
// Wake-ups. One inotify watch (libuv fs event) per directory the globs can match in: a change to an open
// file schedules a read pass, anything else a rescan; a periodic full rescan covers file systems without
// events. A read pass takes at most one chunk from each open file, so a busy file cannot starve the others,
// and reads only while the memory budget has room (backpressure).
//
// Descriptors. At most max_open_files are open; a file at its end that has not grown for close_inactive is
// closed, and reopened (identity and fingerprint checked) when it grows. Files waiting for a descriptor
// get one as soon as another file reaches its end.
//
// Checkpoints. Every checkpoint_interval, and at shutdown (SaveCheckpoints), the acknowledged offset of
// every known file (its AckTracker watermark) is written atomically under state_dir. At start they decide
// where each file resumes (start_position.h).
//
// Reads use pread(2) on regular files, which the page cache answers without blocking the loop for long.
// Loop thread only.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "agent/checkpoint/ack_tracker.h"
#include "agent/checkpoint/checkpoint_store.h"
#include "agent/config/config.h"
#include "agent/core/batch_sink.h"
#include "agent/core/clock.h"
#include "agent/core/memory_budget.h"
#include "agent/source/discovery.h"
#include "agent/source/file_status.h"
#include "agent/source/source.h"
#include "agent/source/record_framer.h"

namespace ferry {

struct TailerCounters {
  FileFigures files;  // the sum over every file this flow has read, including files since forgotten
  std::uint64_t files_opened = 0;
  std::uint64_t files_closed = 0;
  std::uint64_t renames = 0;
  std::uint64_t truncations = 0;
  std::uint64_t copies_followed = 0;  // copytruncate copies continued from the original's offset
  std::uint64_t read_errors = 0;
  std::uint64_t partial_flushes = 0;  // unfinished lines or multiline records sent after a quiet time
  std::uint64_t checkpoint_writes = 0;
  std::uint64_t checkpoint_errors = 0;
  // Matched paths that are not read, each counted once while it stays the same problem.
  std::uint64_t skipped_not_regular = 0;  // directories, FIFOs, sockets, devices
  std::uint64_t skipped_unreadable = 0;   // permission denied
  std::uint64_t skipped_broken_links = 0;
  std::uint64_t skipped_errors = 0;  // other errors of stat, readdir or open
  std::uint64_t vanished = 0;        // gone between the scan and the open
  FramingCounters framing;
};

struct TailerOptions {
  std::string flow;
  config::StartAt start_at = config::StartAt::kEnd;
  std::size_t read_chunk_bytes = 256 << 10;  // large reads keep syscalls per line near zero
  std::size_t max_open_files = 1024;
  Duration partial_line_timeout{5000};
  Duration multiline_timeout{2000};
  Duration close_inactive{60000};
  Duration scan_interval{30000};
  Duration checkpoint_interval{5000};
  Duration copy_hold{10000};    // how long a suspected copytruncate copy waits for its original to shrink
  std::string checkpoint_path;  // empty: no checkpoints (tests)
};

class FileTailer : public Source {
 public:
  FileTailer(uv_loop_t* loop, spdlog::logger& log, const Clock& clock, TailerOptions options,
             Discovery discovery, RecordFramer framer, MemoryBudget& budget, AckTracker& acks,
             BatchSink& sink);
  ~FileTailer() override;
  FileTailer(const FileTailer&) = delete;
  FileTailer& operator=(const FileTailer&) = delete;

  // Loads the checkpoints, scans once and starts following.
  void Start() override;
  // Stops reading and closes every handle; on_closed runs once they are all closed. File states are kept,
  // so SaveCheckpoints still works afterwards.
  void Stop(std::function<void()> on_closed) override;
  // Writes the checkpoint file now if anything changed since the last write.
  void SaveCheckpoints();
  void Persist(std::function<void()> done) override {
    SaveCheckpoints();
    done();
  }
  void AppendCounters(std::vector<NamedCounter>& out) const override;
  std::string Summary() const override;

  const TailerCounters& counters() const { return counters_; }
  std::size_t open_files() const { return open_count_; }
  std::size_t known_files() const { return files_.size(); }
  std::vector<TailedFileStatus> Files() const override;

 private:
  struct File;
  struct Truncation;
  struct Watch;
  using FileKey = std::pair<dev_t, ino_t>;

  void LoadCheckpoints();
  void Scan();
  void ScheduleScan();
  void WatchDirectories(const std::vector<std::string>& directories);
  void OnDirectoryEvent(const std::string& dir, const char* name);
  void Discover(const FoundFile& found, bool first_scan);
  bool OpenNew(const std::string& path, const struct stat& st, bool first_scan);
  // Where a newly found file starts: continuing a truncated file, held as a copy, or by its checkpoint.
  // False while the file is empty and cannot tell yet.
  bool Decide(File& file, bool first_scan);
  bool Reopen(File& file);
  void RecoverRotatedAway();
  bool TakeDescriptorSlot();
  void SchedulePass();
  void ReadPass();
  std::size_t ReadChunk(File& file);
  void HandleTruncation(File& file, const std::string& what);
  void Continue(File& copy, Truncation&& from);
  void Flush(File& file);
  void Emit(File& file, BatchRef batch);
  // The file's path as its batches carry it, shared by them until the file is renamed.
  static std::shared_ptr<const std::string> Origin(File& file);
  void Tick();
  void CloseDescriptor(File& file);
  void Forget(FileKey key);
  // Logs a warning about path once while the message stays the same; true if it was logged now.
  bool WarnOnce(const std::string& path, const std::string& message);
  // Logs a path that is not read (once while the message stays the same) and counts it.
  void Report(const std::string& path, ScanProblemKind kind, const std::string& message);
  // Adds what one read or flush of file gave to its figures and the flow's.
  void Count(File& file, std::uint64_t bytes, const FramingCounters& framing);
  void CountRotation(File& file);
  // Counts the records that hold NUL bytes or invalid UTF-8, logging the first of each file.
  void CheckContent(File& file, const std::vector<Record>& records, std::string_view framed);
  // Skips the NUL bytes a writer without O_APPEND leaves at the start of a file it keeps writing after a
  // truncation (a sparse hole).
  void SkipHole(File& file);
  void HandleClosed();
  std::uint64_t Now() const { return uv_now(loop_); }

  uv_loop_t* loop_;
  spdlog::logger& log_;
  const Clock& clock_;
  TailerOptions options_;
  Discovery discovery_;
  RecordFramer framer_;
  MemoryBudget& budget_;
  AckTracker& acks_;
  BatchSink& sink_;
  TailerCounters counters_;

  uv_timer_t scan_timer_{};
  uv_timer_t pass_timer_{};
  uv_timer_t tick_timer_{};
  uv_timer_t rescan_timer_{};  // debounced scan after a directory event
  uv_timer_t checkpoint_timer_{};
  bool pass_scheduled_ = false;
  bool scan_scheduled_ = false;
  bool stopping_ = false;
  int open_handles_ = 0;
  int budget_waiter_ = 0;
  std::function<void()> on_closed_;

  std::map<FileKey, std::unique_ptr<File>> files_;
  FileKey resume_at_{};  // the file a read pass found no room for: the next pass starts with it
  std::map<std::string, FileKey> by_path_;
  std::size_t open_count_ = 0;
  std::vector<std::pair<std::string, bool>> waiting_;  // (path, present at first start) wanting a descriptor
  std::vector<Truncation> truncations_;                // shrunk files whose copy may still turn up
  std::map<std::string, std::unique_ptr<Watch>> watches_;
  // Paths reported, with their message, so a bad path is logged and counted once, not every scan; a path
  // not reported by the latest scan is dropped.
  std::map<std::string, std::string> warned_;
  std::set<std::string> reported_in_scan_;

  bool first_start_ = true;  // no checkpoint file existed
  bool scanned_once_ = false;
  std::vector<FileCheckpoint> checkpoints_;  // loaded at start; matched by files as they are found
  std::vector<bool> claimed_;
  std::string last_saved_;           // serialised form of the last write, to skip writes that change nothing
  std::uint64_t saved_changes_ = 0;  // the change count at the last look, to skip even serialising
};

}  // namespace ferry
