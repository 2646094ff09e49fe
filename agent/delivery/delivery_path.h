// DeliveryPath: the sending end every output shares: the destination (wrapped to compress each record's
// data when asked), the sender that retries it, the request collector that feeds the sender, and the
// flow's safekeeping (spool, dead letters). An output puts its packer in front of collector().
//
// Routing with a spool: in `always` mode every collected request is written to the spool and sent from
// there; in `on_failure` mode a request goes to the sender directly unless the spool holds entries or is
// writing some, in which case it queues behind them, so records leave in the order they were read (and
// the spool is replayed before new data after a restart). The sender spills what fails. Spool writes run
// off the loop (spool.h); a request written ahead is held here, in memory and in the budget, until it is
// durable, and only then acknowledged. A spool that is full or whose disk fails leaves records in memory
// (a routed request then goes to the sender): the memory budget then stops reading, and the files wait on
// disk. Entries are replayed a few at a time, charged to the memory budget, as are request bodies while
// they are sent; requests hold at most a quarter of the budget. Drain waits for the spool writes under way
// as well as for the sender. Loop thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/core/repeat_filter.h"
#include "agent/delivery/compressing_destination.h"
#include "agent/delivery/output.h"
#include "agent/delivery/payload_compression.h"
#include "agent/delivery/request_collector.h"
#include "agent/delivery/safekeeping.h"
#include "agent/delivery/sender.h"
#include "agent/net/http_client.h"

namespace ferry {

// The collector's limits for records that are compressed after collection: compressed data that does not
// shrink grows a little, and the request that carries it must still keep the API's limit.
RequestLimits CompressedRequestLimits(RequestLimits limits, Compression compression);
// The collector's limits under a memory budget (may be null): requests small enough that several fit.
RequestLimits BudgetedRequestLimits(RequestLimits limits, const MemoryBudget* budget);

class DeliveryPath {
 public:
  // max_age: how long a collected record waits for its request to fill.
  DeliveryPath(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http,
               std::unique_ptr<Destination> destination, Compression compression, RequestLimits limits,
               Duration max_age, SenderOptions sender_options, Safekeeping keep);
  DeliveryPath(const DeliveryPath&) = delete;
  DeliveryPath& operator=(const DeliveryPath&) = delete;

  RequestCollector& collector() { return collector_; }
  Sender& sender() { return sender_; }
  const Sender& sender() const { return sender_; }

  // Sends what is collected and drains the sender; stops replaying the spool. on_drained runs once the
  // sender has drained and every request written ahead to the spool is durable (or, if its write failed
  // after the sender was done, counted as undelivered: it stays behind its source checkpoint).
  void Drain(Duration timeout, std::function<void(std::size_t undelivered)> on_drained);
  // Closes the handles and waits for the spool's and the dead letters' disk work under way.
  void Close(std::function<void()> on_closed);

  // "requests 3, records retried 0, failed requests 0, unsent 0" for the flow's log line.
  std::string Summary() const;
  // records_sent, records_unsent, requests, request_failures, records_retried, payload_bytes, the
  // safekeeping counters, and with compression: compressed_bytes_in, compressed_bytes_out.
  void AppendCounters(std::vector<Output::Counter>& out) const;

 private:
  // Collected requests go to the spool or the sender.
  void Route(std::vector<WireRecord>&& records);
  void TakesRecordsAgain();
  // The sender's safekeeping hooks (sender.h): done runs once the records are durable or refused.
  void Spill(std::span<const WireRecord> records, Sender::KeepDone done);
  void NoteSpoolWrite(const Status& written);
  void WriteDeadLetters(std::span<const WireRecord> records, const std::string& code,
                        const std::string& message, Sender::KeepDone done);
  void FinishDrainIfDone();
  void ScheduleReplay();
  void Replay();

  uv_loop_t* loop_;
  spdlog::logger& log_;
  std::unique_ptr<Destination> destination_;
  const CompressingDestination* compressing_ = nullptr;  // destination_ when it compresses
  // Before the sender: the batches of replayed entries, which the sender holds, report to the spool.
  Safekeeping keep_;
  Sender sender_;
  RequestCollector collector_;
  uv_timer_t replay_timer_{};
  bool replay_scheduled_ = false;
  bool draining_ = false;
  bool spool_refusing_ = false;        // the last append failed (logged once until one succeeds)
  std::uint64_t records_spooled_ = 0;  // user records routed to the spool (the sender counts its spills)
  std::size_t routing_ = 0;            // routed requests being written to the spool
  bool sender_drained_ = false;
  std::size_t undelivered_ = 0;  // at the drain: given up by the sender, or routed and refused after it
  std::function<void(std::size_t)> on_drained_;
  RepeatFilter dead_letter_failures_;  // write failures: once a minute per kind (core/repeat_filter.h)
};

}  // namespace ferry
