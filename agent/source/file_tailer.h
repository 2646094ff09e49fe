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
// Checkpoints. The acknowledged offset of every known file (its AckTracker watermark) is written atomically
// under state_dir (checkpoint_store.h), on libuv's thread pool (checkpoint_writer.h), in two ways:
//   - recent (rename only, survives a crash of the process): as acknowledgements move, once the bytes
//     acknowledged since the last write reach checkpoint_after_bytes (a quarter of the flow's memory budget),
//     so a kill -9 re-sends about what was in flight and not what was read meanwhile, whatever the read rate;
//     paced so that writing costs at most about 1/kCheckpointPaceFactor of a core (10,000 files make a
//     big set);
//   - durable (fsync'd, survives a power loss): every checkpoint_interval, at most one per interval (edge
//     hosts run on flash), on the first start, and at shutdown (SaveCheckpoints).
// Nothing is written while nothing changed: a generation counter, bumped by every change a checkpoint
// shows (an acknowledgement that moves a watermark, a file found, renamed, truncated or forgotten), says so.
// At start the newer of the two files decides where each file resumes (start_position.h).
//
// Forgetting. A file that is no longer read (rotated out of the globs and drained, closed and gone) keeps
// its checkpoint entry until its watermark reaches everything read from it, i.e. until all of it is
// acknowledged or in the spool: a crash before then finds it again by inode (RecoverRotatedAway) and
// resumes it. A file whose content is gone (deleted, or its inode reused) leaves at once: nothing on disk
// could be resumed.
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
#include "agent/checkpoint/checkpoint_writer.h"
#include "agent/core/batch_sink.h"
#include "agent/core/clock.h"
#include "agent/core/memory_budget.h"
#include "agent/core/repeat_filter.h"
#include "agent/source/discovery.h"
#include "agent/source/file_status.h"
#include "agent/source/record_framer.h"
#include "agent/source/source.h"
#include "agent/source/tailer_options.h"

namespace ferry {

struct TailerCounters {
  FileFigures files;  // the sum over every file this flow has read, including files since forgotten
  std::uint64_t files_opened = 0;
  std::uint64_t files_closed = 0;
  std::uint64_t renames = 0;
  std::uint64_t truncations = 0;
  std::uint64_t copies_followed = 0;  // copytruncate copies continued from the original's offset
  std::uint64_t read_errors = 0;
  std::uint64_t partial_flushes = 0;    // unfinished lines or multiline records sent after a quiet time
  std::uint64_t checkpoint_writes = 0;  // successful writes of either kind
  std::uint64_t checkpoint_syncs = 0;   // of which durable (fsync'd)
  std::uint64_t checkpoint_errors = 0;
  std::uint64_t checkpoint_cpu_ns = 0;  // CPU the writes took: building on the loop, writing on the pool
  // Matched paths that are not read, each counted once while it stays the same problem.
  std::uint64_t skipped_not_regular = 0;  // directories, FIFOs, sockets, devices
  std::uint64_t skipped_unreadable = 0;   // permission denied
  std::uint64_t skipped_broken_links = 0;
  std::uint64_t skipped_errors = 0;  // other errors of stat, readdir or open
  std::uint64_t vanished = 0;        // gone between the scan and the open
  FramingCounters framing;
};

// Recent checkpoint writes keep at least this many times their own cost apart (building and serialising on
// the loop, writing on the pool), so checkpoints take at most about 1/32 of a core however many files
// there are and however fast acknowledgements come.
inline constexpr std::uint64_t kCheckpointPaceFactor = 32;

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
  // Writes the checkpoint file durably (fsync) if anything changed since the last durable write. done (if
  // given) runs on the loop once every change made before the call is on disk, or the write failed (which
  // is logged and counted); at once if nothing was left to write. Works after Stop (shutdown calls it last).
  void SaveCheckpoints(std::function<void()> done = {});
  void Persist(std::function<void()> done) override { SaveCheckpoints(std::move(done)); }
  void AppendCounters(std::vector<NamedCounter>& out) const override;
  std::string Summary() const override;

  const TailerCounters& counters() const { return counters_; }
  std::size_t open_files() const { return open_count_; }
  std::size_t known_files() const { return files_.size(); }
  // Files no longer read that stay in the checkpoint until what was read from them is acknowledged.
  std::size_t retained_files() const;
  // Followed and retained files.
  std::vector<TailedFileStatus> Files() const override;

 private:
  struct File;
  struct Truncation;
  struct Watch;
  struct Retained;
  using FileKey = std::pair<dev_t, ino_t>;
  enum class Want { kNone, kRecent, kDurable };  // ordered: a durable write also does a recent one's job

  // Checkpoints (tailer_checkpoints.cpp).
  void LoadCheckpoints();
  SourceId OpenSource(std::uint64_t offset) { return acks_.Open(offset, ack_group_); }
  // Something a checkpoint shows has changed.
  void Changed() { ++generation_; }
  // A watermark of this flow moved by `bytes` (inside an acknowledgement: counts and schedules only).
  void OnAcked(std::uint64_t bytes);
  void WantCheckpoint(Want want);
  // Starts the write wanted, if any, when no write is in flight and the pace allows.
  void PumpCheckpoints();
  void OnCheckpointWritten(const CheckpointWriter::Outcome& outcome);
  CheckpointSet BuildCheckpoints();
  std::uint64_t CheckpointAfterBytes() const;
  void Scan();
  void ScheduleScan();
  void WatchDirectories(const std::vector<std::string>& directories);
  void OnDirectoryEvent(const std::string& dir, const char* name, int events);
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
  // Tells a batch read from file where and when it was read: the path, the wall time, the file's identity.
  void Label(File& file, Batch& batch) const;
  void Tick();
  // Whether the open file has grown past its read offset at a fresh fstat; if so, a read pass is due.
  bool GrewSinceRead(File& file);
  void CloseDescriptor(File& file);
  // Files that leave (tailer_retention.cpp). Forget stops following a file; it stays in the checkpoint as
  // Retained until acknowledged, unless content_gone (or it has no link left).
  void Forget(FileKey key, bool content_gone = false);
  // A newly opened file that is a retained one come back: it reads on from where it was. False otherwise
  // (a retained entry of the same inode with other content is dropped: that file was deleted).
  bool Revive(File& file);
  // Retained files whose watermark reached everything read from them leave the checkpoint.
  void DropAcknowledged();
  // Closed files no glob names any more: drained under their new name if they grew before they were
  // moved, forgotten otherwise.
  void FollowLost(const std::vector<FileKey>& lost);
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
  // Closes a directory watch's handle and frees the watch once it is closed.
  void CloseWatch(std::unique_ptr<Watch> watch);
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
  uv_timer_t rescan_timer_{};      // debounced scan after a directory event
  uv_timer_t checkpoint_timer_{};  // durable writes, every checkpoint_interval
  uv_timer_t pace_timer_{};        // the next recent write, once the pace allows it
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
  // Read errors (a failing disk fails every read of every file alike): a line per kind a minute, counted.
  RepeatFilter read_failures_;

  bool first_start_ = true;  // no checkpoint file existed
  bool scanned_once_ = false;
  std::vector<FileCheckpoint> checkpoints_;  // loaded at start; matched by files as they are found
  std::vector<bool> claimed_;
  std::vector<Retained> retained_;  // no longer read, kept in the checkpoint until acknowledged

  std::unique_ptr<CheckpointWriter> writer_;  // null without a checkpoint path
  AckGroup ack_group_ = 0;
  Want want_ = Want::kNone;
  bool pace_armed_ = false;
  bool write_failing_ = false;    // the last write failed (its error was logged; the next ones are counted)
  std::uint64_t generation_ = 1;  // bumped by Changed(); never goes back, so it cannot cancel out
  std::uint64_t issued_generation_ = 0;   // generation_ as of the write in flight (or the last one)
  std::uint64_t written_generation_ = 0;  // as of the last successful write of either kind
  std::uint64_t synced_generation_ = 0;   // as of the last successful durable write
  std::uint64_t acked_bytes_ = 0;         // how far this flow's watermarks moved, in total
  std::uint64_t acked_at_write_ = 0;      // acked_bytes_ as of the write in flight (or the last one)
  std::uint64_t acked_written_ = 0;       // as of the last successful write
  std::uint64_t written_at_ = 0;          // loop ms of the last successful write (or of the start)
  std::uint64_t sequence_ = 0;            // of the last write (checkpoint_store.h)
  std::uint64_t next_recent_at_ = 0;      // loop ms before which no recent write starts (the pace)
  std::uint64_t build_ns_ = 0;            // loop time spent building the write in flight
  std::vector<std::function<void()>> sync_waiters_;  // SaveCheckpoints callbacks for the next durable write
  std::vector<std::function<void()>> synced_;        // those the durable write in flight answers
};

}  // namespace ferry
