// Batch: the records framed from one read of one source, and the arena their bytes live in.
//
// A batch covers the contiguous byte range [start_offset, end_offset) of its source. Records are views into
// the batch's arena. Every stage downstream holds a BatchRef while it needs the bytes; each record is
// acknowledged exactly once (delivered, dropped by a plugin, or given up), and when the last one is, the
// batch tells its AckSink so the source's watermark can move past the range. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/arena.h"

namespace ferry {

// Identifies one opened source file for the life of the process.
using SourceId = std::uint64_t;

struct Record {
  std::string_view data;
  std::uint64_t end_offset = 0;  // source offset just past this record and its line terminator
};

// Where finished batches report; implemented by the ack tracker.
class AckSink {
 public:
  virtual ~AckSink() = default;
  virtual void OnBatchDone(SourceId source, std::uint64_t start_offset, std::uint64_t end_offset) = 0;
};

class Batch {
 public:
  Batch(SourceId source, std::uint64_t start_offset, AckSink* sink, std::size_t block_size,
        MemoryBudget* budget)
      : source_(source),
        start_offset_(start_offset),
        end_offset_(start_offset),
        sink_(sink),
        arena_(block_size, budget) {}
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  SourceId source() const { return source_; }
  std::uint64_t start_offset() const { return start_offset_; }
  std::uint64_t end_offset() const { return end_offset_; }
  void set_end_offset(std::uint64_t end) { end_offset_ = end; }

  // The path of the file the records were read from (empty if none), for keys and templates.
  std::string_view origin() const { return origin_ ? std::string_view(*origin_) : std::string_view(); }
  void set_origin(std::shared_ptr<const std::string> origin) { origin_ = std::move(origin); }

  // When the records were read (unix milliseconds, wall clock; 0 if unknown), for the timestamps plugins add.
  std::int64_t read_time_ms() const { return read_time_ms_; }
  void set_read_time_ms(std::int64_t ms) { read_time_ms_ = ms; }
  // The source file's identity, the same on every run for the same content (0 if none, e.g. stdin). With
  // a record's end_offset it names the record for good: a record read again after a crash has the same
  // (file_id, end_offset), so a consumer can drop the duplicate.
  std::uint64_t file_id() const { return file_id_; }
  void set_file_id(std::uint64_t id) { file_id_ = id; }

  Arena& arena() { return arena_; }

  // An aggregate's user records (partition key, data: views into its parents) when their keys differ, kept
  // so they can be sent again one by one if the aggregate lands on a shard it was not predicted for.
  struct KeyedRecord {
    std::string_view key;
    std::string_view data;
  };
  std::vector<KeyedRecord>& contents() { return contents_; }
  std::vector<Record>& records() { return records_; }
  const std::vector<Record>& records() const { return records_; }

  // Marks n records finished. The batch reports to its sink once every record it was sealed with is;
  // a batch sealed with no records reports at once. Records a stage removes from records() are still
  // counted, so that stage acks them when it removes them.
  void Ack(std::size_t n);
  // Called by the producer once the batch holds all its records.
  void Seal();
  // For a batch that stands for `count` records it does not hold itself (an aggregate of its parents'
  // records, acknowledged as a whole with Ack(count)).
  void SealAs(std::size_t count);

  // For a batch built from records of other batches (a KPL aggregate, a packed Firehose record): when this
  // batch is done it acknowledges `records` records of `parent`, whose bytes stay alive until then. A batch
  // destroyed before it is done leaves its parents unacknowledged (their records were given up).
  void AddParent(Batch* parent, std::uint32_t records);

  void AddRef() { ++refs_; }
  // Out of line: GCC's -Wuse-after-free misreads two inlined Unref calls on one batch.
  void Unref();

 private:
  ~Batch();
  void ReportIfDone();

  SourceId source_;
  std::uint64_t start_offset_;
  std::uint64_t end_offset_;
  AckSink* sink_;
  std::shared_ptr<const std::string> origin_;
  std::int64_t read_time_ms_ = 0;
  std::uint64_t file_id_ = 0;
  Arena arena_;
  std::vector<Record> records_;
  std::vector<KeyedRecord> contents_;
  std::vector<std::pair<Batch*, std::uint32_t>> parents_;  // each holds a reference
  std::size_t sealed_count_ = 0;
  std::size_t acked_ = 0;
  std::uint32_t refs_ = 0;
  bool sealed_ = false;
  bool reported_ = false;
};

// Intrusive, single-threaded reference to a Batch.
class BatchRef {
 public:
  BatchRef() = default;
  explicit BatchRef(Batch* batch) : batch_(batch) {
    if (batch_ != nullptr) batch_->AddRef();
  }
  BatchRef(const BatchRef& other) : BatchRef(other.batch_) {}
  BatchRef(BatchRef&& other) noexcept : batch_(std::exchange(other.batch_, nullptr)) {}
  BatchRef& operator=(BatchRef other) noexcept {
    std::swap(batch_, other.batch_);
    return *this;
  }
  ~BatchRef() {
    if (batch_ != nullptr) batch_->Unref();
  }

  Batch* get() const { return batch_; }
  Batch* operator->() const { return batch_; }
  Batch& operator*() const { return *batch_; }
  explicit operator bool() const { return batch_ != nullptr; }

 private:
  Batch* batch_ = nullptr;
};

}  // namespace ferry
