// FirehosePacker: turns a flow's records into Firehose wire records by packing lines, and feeds them to the
// request collector. Firehose bills each record in 5 KB steps and counts records against the delivery
// stream's records/s quota, so a 200-byte line sent alone costs 25 times its size; consecutive user records
// are therefore joined, each followed by its '\n', into one Firehose record of up to max_record_bytes. Every
// packed record ends with '\n', so the objects Firehose writes stay newline-delimited. A user record too
// long to share (its bytes and newline exceed max_record_bytes) goes out alone; one too long for Firehose
// itself (more than kMaxRecordBytes with its newline, which the framer's cap should prevent but a plugin
// can cause) goes out in kMaxRecordBytes pieces that are acknowledged together, rather than being refused
// by the endpoint and retried for ever.
//
// Packing across batches. A batch is one read of one file: up to 256 KiB when catching up, but a single
// line or two when tailing a log written line by line, which is the common case on an edge host. Packing
// only within a batch would leave that case at one Firehose record per line, exactly what packing is for.
// So a pack stays open across batches, holding views of its lines and a BatchRef per contributing batch
// (nothing is copied while it fills), and when it closes its lines are copied once, at the exact size:
//   - all lines from one batch: into that batch's arena; the wire record acknowledges that batch for all
//     of them (WireRecord::user_records);
//   - lines from several batches: into a holder batch of its own, whose parents (Batch::AddParent) are
//     the source batches with their line counts. Acknowledging the packed record finishes the holder,
//     which acknowledges each parent for its share; a holder dropped unacknowledged (a drain that gave
//     up) releases its parents unacknowledged, so their bytes are read again after a restart.
// The cost is that copy (the codec copies again, into base64) and the memory of packed bytes in flight
// next to their source batches, charged to the memory budget so backpressure sees it.
//
// A pack closes when the next line does not fit, when its first line has waited max_age (it is then
// handed to the collector and the collector is flushed, so a quiet source's line is not held for max_age
// twice), and on FlushNow(). The collector keeps PutRecordBatch's request limits (pass it kRequestLimits).
// Loop thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "agent/core/batch_sink.h"
#include "agent/core/memory_budget.h"
#include "agent/core/units.h"
#include "agent/delivery/request_collector.h"

namespace ferry::firehose {

// PutRecordBatch limit on one record: 1,000 KiB of data before base64 (API reference; the Kinesis Agent's
// FirehoseConstants.MAX_RECORD_SIZE_BYTES = 1000 * 1024).
inline constexpr std::size_t kMaxRecordBytes = 1000 * 1024;

// PutRecordBatch limits on one request: 500 records and 4 MiB of data before base64 (API reference; the
// Kinesis Agent's FirehoseConstants.MAX_BATCH_PUT_SIZE_BYTES = 4 * 1024 * 1024). Firehose records have no
// partition key, so WireRecord::size() is the data the limit counts.
inline constexpr RequestLimits kRequestLimits{500, 4ULL << 20};

struct FirehosePackerOptions {
  // Most bytes in one packed record, lines and newlines together; clamped to [1, kMaxRecordBytes].
  std::size_t max_record_bytes = kMaxRecordBytes;
  // How long an open pack waits for more lines; the flow's collection age.
  Duration max_age{1000};
};

struct FirehosePackerCounters {
  std::uint64_t user_records = 0;    // records taken from batches
  std::uint64_t wire_records = 0;    // Firehose records handed to the collector
  std::uint64_t wire_bytes = 0;      // their data, newlines included
  std::uint64_t cross_batch = 0;     // packed records whose lines came from more than one batch
  std::uint64_t oversize_split = 0;  // user records longer than kMaxRecordBytes, sent in pieces
};

class FirehosePacker : public BatchSink {
 public:
  // budget (may be null) is charged for the bytes of packs that span batches, as the source batches are.
  // When a source finds it spent, the open pack and the collector's request are sent without waiting.
  FirehosePacker(uv_loop_t* loop, RequestCollector& collector, FirehosePackerOptions options,
                 MemoryBudget* budget);
  ~FirehosePacker() override;
  FirehosePacker(const FirehosePacker&) = delete;
  FirehosePacker& operator=(const FirehosePacker&) = delete;

  void Accept(BatchRef batch) override;

  // Hands the open pack on now (shutdown, or a caught-up source); the collector is the caller's to flush.
  void FlushNow();
  // Closes the age timer; on_closed runs when it is closed. A pack still open is released unsent (its
  // records are never acknowledged) when the packer is destroyed.
  void Close(std::function<void()> on_closed);

  // Longest user record that goes out whole with its newline: what the flow's framer should cap records at.
  static constexpr std::size_t MaxDataBytes() { return kMaxRecordBytes - 1; }

  const FirehosePackerCounters& counters() const { return counters_; }
  // User records in the open pack.
  std::size_t open_records() const { return lines_.size(); }

 private:
  void Take(const BatchRef& batch, std::string_view line);
  void ClosePack();
  void SendInPieces(const BatchRef& batch, std::string_view line);
  void OnAge();

  RequestCollector& collector_;
  std::size_t max_record_bytes_;
  Duration max_age_;
  MemoryBudget* budget_;
  int reliever_ = 0;  // its id in budget_
  uv_timer_t timer_{};
  FirehosePackerCounters counters_;

  // The open pack: its lines in order, the batches they came from (one entry per run of lines from the
  // same batch), and its size with one newline per line.
  std::vector<std::string_view> lines_;
  struct Part {
    BatchRef batch;
    std::uint32_t records = 0;
  };
  std::vector<Part> parts_;
  std::size_t bytes_ = 0;
  std::uint64_t unaggregated_bytes_ = 0;  // what the open pack's lines would be billed, one record each
};

}  // namespace ferry::firehose
