// Spool: one flow's durable queue of wire records that were not delivered at once (DESIGN.md §3), a folder
// of append-only segments (segment_writer.h) holding spool entries (spool_entry.h).
//
// Append encodes the records as an entry at once and queues it; the entry is written and made durable on
// libuv's thread pool, and only then does `done` say Ok, so the records' sources may be acknowledged (the
// checkpoint moves past them: the bytes are in the spool now). Next hands entries back out, oldest first,
// as wire records whose batch acknowledges the entry to the spool once the endpoint stored all of it; a
// segment is deleted once every entry in it is acknowledged. Acknowledgements are kept in memory only:
// after a restart the surviving segments are replayed whole, so duplicates are bounded by one segment.
//
// Off the loop: every blocking disk call (creating a segment, pwrite, fdatasync, the folder's fsync,
// closing, reading a segment back, deleting one) runs in a disk job on libuv's thread pool, one job at a
// time per spool, in order. Appends that arrive while a job runs wait, and the next job writes all of them
// that fit the segment with one pwrite and one fdatasync (group commit); they succeed or fail together.
// A job owns what it works on: the entries framed into one buffer on the loop (moved in), the segment
// writer (moved in, and back out when the job is done), the buffer a segment is read into (allocated on
// the loop, so pool threads allocate next to nothing), paths and results; the spool's own state, the
// records and their batches stay on the loop. The encoded entries waiting to be written are charged to
// the memory budget.
//
// Only closed segments are read: when the reader has caught up, the segment being written is closed and
// read next, and the following append starts a new one. Damage found while reading (torn tails, flipped
// bits, zeroed blocks, undecodable entries) is logged with the segment and offset and skipped; every good
// entry before and after it is still handed out. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/core/batch.h"
#include "agent/core/clock.h"
#include "agent/core/memory_budget.h"
#include "agent/core/pool_runner.h"
#include "agent/core/result.h"
#include "agent/core/wire_record.h"
#include "agent/spool/segment_reader.h"
#include "agent/spool/segment_writer.h"

namespace ferry::spool {

// A segment is closed once it holds this much (an entry larger than that gets a segment of its own).
inline constexpr std::uint64_t kSegmentTargetBytes = 4u << 20;

struct SpoolCounters {
  std::uint64_t entries_written = 0;
  std::uint64_t records_written = 0;  // user records
  std::uint64_t bytes_written = 0;    // framed, compressed
  std::uint64_t entries_replayed = 0;
  std::uint64_t entries_acked = 0;
  std::uint64_t full_refusals = 0;  // appends refused because max_bytes was reached
  std::uint64_t write_errors = 0;   // appends that failed on the file system (disk full, I/O error)
  std::uint64_t corruptions = 0;    // damaged regions and undecodable entries skipped
  std::uint64_t bytes_skipped = 0;
  std::uint64_t segments_deleted = 0;
  std::uint64_t syncs = 0;  // fdatasyncs: fewer than entries_written when appends were grouped
};

class Spool : public AckSink {
 public:
  // Called once per append, on the loop: Ok once the entry is durable, else the error that kept it out.
  // It may append again, but must not destroy the spool.
  using Done = std::function<void(Status)>;

  // Opens (creating it if needed) the folder and takes the segments already there for replay, oldest first
  // (the only disk calls made on the calling thread: this runs before the loop does). label names the
  // spool in log lines ("flow web"). Replayed entries' memory is charged to budget (if any). sync: how disk
  // jobs make segments durable (empty: fdatasync; tests slow it down or make it fail).
  static Result<std::unique_ptr<Spool>> Open(uv_loop_t* loop, std::string folder, std::uint64_t max_bytes,
                                             std::string label, spdlog::logger& log, const Clock& clock,
                                             MemoryBudget* budget, SegmentWriter::SyncCall sync = {});
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  // Deletes what is still waiting to be deleted; a disk job still running finishes on its own (see
  // pool_runner.h). Entries still queued are not written and their `done` is not called.
  ~Spool() override;

  // Encodes records as one entry (they need not outlive the call) and queues it for writing; done(Ok) once
  // it is durable, done(kIo error) if the file system failed (the records are not in the spool then,
  // though after a failed sync they may come back from it too: duplicates, never a loss). Appends
  // complete in the order they were made. Refuses at once, without calling done: kFull when the entry
  // could take the spool past max_bytes, or an encoding error.
  Status Append(std::span<const WireRecord> records, Done done);

  // The next entry not yet handed out, as records acknowledging it; false when there is none now. If the
  // next entry is in a segment not yet in memory, false, and the segment is read in the background:
  // on_readable runs when it is there.
  bool Next(std::vector<WireRecord>* records);

  // Called after an entry was acknowledged (and its segment perhaps deleted). It runs inside the
  // acknowledgement, so it should only schedule work.
  void set_on_acked(std::function<void()> on_acked) { on_acked_ = std::move(on_acked); }
  // Called when Next may have more to hand out: appended entries became durable, or a segment was read.
  void set_on_readable(std::function<void()> on_readable) { on_readable_ = std::move(on_readable); }

  // True when no entry is waiting to be handed out or acknowledged, and none is waiting to be written.
  bool empty() const;
  // No disk job is running or waiting (appends included).
  bool idle() const { return !runner_.busy(); }
  // Calls idle_done once the spool is idle (at once if it is): a flow that closes waits for deletions
  // still under way, so a spool opened next on the same folder finds it settled.
  void WhenIdle(std::function<void()> idle_done);
  // Appends not yet done (queued or being written).
  std::size_t appends_pending() const { return queued_.size() + writing_.size(); }
  // Entries handed out and not yet acknowledged.
  std::uint64_t entries_out() const { return entries_out_; }
  // Entries not yet acknowledged that this process wrote or handed out; entries of older segments not yet
  // read are not counted until they are.
  std::uint64_t entries_pending() const;
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t max_bytes() const { return max_bytes_; }
  // When the oldest unacknowledged segment was last written (unix seconds), if there is one.
  std::optional<std::int64_t> oldest_unix_s() const;
  // Seconds since then (0 when the spool is empty).
  std::uint64_t oldest_age_s() const;
  const SpoolCounters& counters() const { return counters_; }
  const std::string& folder() const { return folder_; }

  void OnBatchDone(SourceId segment, std::uint64_t entry, std::uint64_t) override;

 private:
  struct Segment {
    std::uint64_t number = 0;
    std::string path;
    std::uint64_t bytes = 0;
    std::uint64_t written = 0;     // durable entries appended by this process
    std::uint64_t handed_out = 0;  // entries Next returned
    std::uint64_t acked = 0;
    bool closed = false;         // takes no more entries
    bool read_done = false;      // the reader reached its end
    std::int64_t written_s = 0;  // unix seconds of its first entry (or its file's mtime)
  };
  // An append on the loop's side: its entry's bytes go to the disk job.
  struct Pending {
    std::string entry;
    std::size_t charged = 0;     // bytes charged to the memory budget until it is written
    std::uint64_t reserved = 0;  // bytes counted against max_bytes until it is written
    std::uint64_t user_records = 0;
    Done done;
  };
  struct DiskJob;

  Spool(uv_loop_t* loop, std::string folder, std::uint64_t max_bytes, std::string label, spdlog::logger& log,
        const Clock& clock, MemoryBudget* budget, SegmentWriter::SyncCall sync);
  Status Scan();
  std::string SegmentPath(std::uint64_t number) const;
  Segment* Find(std::uint64_t number);
  // Starts the next disk job if none runs and there is work.
  void Pump();
  // Moves the queued appends that go into one segment into job.
  void TakeAppends(DiskJob& job);
  void OnJobDone(std::unique_ptr<DiskJob> job);
  void FinishAppends(DiskJob& job);
  void FinishLoad(DiskJob& job);
  // Makes sure the next segment to read is in memory or being read; false when there is none.
  bool StartLoad();
  void FinishReading(Segment& segment);
  void DeleteIfDone(std::uint64_t number);

  std::string folder_;
  std::uint64_t max_bytes_;
  std::string label_;
  spdlog::logger& log_;
  const Clock& clock_;
  MemoryBudget* budget_;
  SegmentWriter::SyncCall sync_;
  PoolRunner runner_;
  std::deque<Segment> segments_;  // by number, oldest first
  std::uint64_t next_number_ = 1;
  std::uint64_t bytes_ = 0;     // on disk
  std::uint64_t reserved_ = 0;  // at most this much more for the appends not yet written
  std::uint64_t entries_out_ = 0;

  // Disk work waiting for the next job.
  std::deque<Pending> queued_;
  std::vector<SegmentWriter> retiring_;  // writers of closed segments, to close
  std::vector<std::string> unlink_;      // segments to delete
  std::optional<std::uint64_t> load_;    // the segment to read
  // The writer of the open segment (segments_.back()) while no job has it.
  std::optional<SegmentWriter> writer_;
  std::vector<Pending> writing_;  // the running job's appends, in order
  bool loading_ = false;          // the running job reads a segment

  // The segment being read, whole in memory.
  std::optional<std::uint64_t> reading_;
  std::string loaded_;
  std::optional<SegmentReader> reader_;

  SpoolCounters counters_;
  std::function<void()> on_acked_;
  std::function<void()> on_readable_;
};

}  // namespace ferry::spool
