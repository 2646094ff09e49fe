// Spool: one flow's durable queue of wire records that were not delivered at once (DESIGN.md §3), a folder
// of append-only segments (segment_writer.h) holding spool entries (spool_entry.h).
//
// Append writes an entry and makes it durable before returning, so its source records may be acknowledged
// (the checkpoint moves past them: the bytes are in the spool now). Next hands entries back out, oldest
// first, as wire records whose batch acknowledges the entry to the spool once the endpoint stored all of
// it; a segment is deleted once every entry in it is acknowledged. Acknowledgements are kept in memory only:
// after a restart the surviving segments are replayed whole, so duplicates are bounded by one segment.
//
// Only closed segments are read: when the reader has caught up, the segment being written is closed and
// read next, and the following Append starts a new one. Damage found while reading (torn tails, flipped
// bits, zeroed blocks, undecodable entries) is logged with the segment and offset and skipped; every good
// entry before and after it is still handed out. Loop thread only.
#pragma once

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
#include "agent/core/result.h"
#include "agent/delivery/wire_record.h"
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
};

class Spool : public AckSink {
 public:
  // Opens (creating it if needed) the folder and takes the segments already there for replay, oldest first.
  // label names the spool in log lines ("flow web"). Replayed entries' memory is charged to budget (if any).
  static Result<std::unique_ptr<Spool>> Open(std::string folder, std::uint64_t max_bytes, std::string label,
                                             spdlog::logger& log, const Clock& clock, MemoryBudget* budget);
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  ~Spool() override;

  // Writes records as one entry and makes it durable. kFull when it would take the spool past max_bytes,
  // kIo when the file system failed (the records are not in the spool either way).
  Status Append(std::span<const WireRecord> records);

  // The next entry not yet handed out, as records acknowledging it; false when there is none.
  bool Next(std::vector<WireRecord>* records);

  // Called after an entry was acknowledged (and its segment perhaps deleted). It runs inside the
  // acknowledgement, so it should only schedule work.
  void set_on_acked(std::function<void()> on_acked) { on_acked_ = std::move(on_acked); }

  // True when no entry is waiting to be handed out or acknowledged.
  bool empty() const;
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
    std::uint64_t written = 0;     // entries appended by this process
    std::uint64_t handed_out = 0;  // entries Next returned
    std::uint64_t acked = 0;
    bool closed = false;         // takes no more entries
    bool read_done = false;      // the reader reached its end
    std::int64_t written_s = 0;  // unix seconds of its first entry (or its file's mtime)
  };

  Spool(std::string folder, std::uint64_t max_bytes, std::string label, spdlog::logger& log,
        const Clock& clock, MemoryBudget* budget);
  Status Scan();
  std::string SegmentPath(std::uint64_t number) const;
  Segment* Find(std::uint64_t number);
  void CloseWriter();
  // Loads the next closed segment with entries to read; false when none.
  bool OpenReader();
  void FinishReading(Segment& segment);
  void DeleteIfDone(std::uint64_t number);

  std::string folder_;
  std::uint64_t max_bytes_;
  std::string label_;
  spdlog::logger& log_;
  const Clock& clock_;
  MemoryBudget* budget_;
  std::deque<Segment> segments_;  // by number, oldest first
  std::uint64_t next_number_ = 1;
  std::uint64_t bytes_ = 0;
  std::uint64_t entries_out_ = 0;
  std::optional<SegmentWriter> writer_;  // for segments_.back() while it is open

  // The segment being read, whole in memory.
  std::optional<std::uint64_t> reading_;
  std::string loaded_;
  std::optional<SegmentReader> reader_;

  SpoolCounters counters_;
  std::function<void()> on_acked_;
};

}  // namespace ferry::spool
