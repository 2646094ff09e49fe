// DeliveryPath: construction of destination, sender and collector, and their shared counters.
#include "agent/delivery/delivery_path.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "agent/core/callback_join.h"
#include "agent/core/uv_handle.h"

namespace ferry {
namespace {
std::unique_ptr<Destination> Wrap(std::unique_ptr<Destination> destination, Compression compression) {
  if (compression == Compression::kNone) return destination;
  return std::make_unique<CompressingDestination>(std::move(destination), compression);
}

SenderOptions Charged(SenderOptions options, MemoryBudget* budget) {
  options.budget = budget;
  return options;
}
}  // namespace

RequestLimits CompressedRequestLimits(RequestLimits limits, Compression compression) {
  if (compression == Compression::kNone) return limits;
  // Each record may grow by its n/256 and a fixed overhead (see LargestCompressibleInput): the fixed
  // parts of a full request come off first, then the proportional part.
  std::size_t fixed = limits.max_records * LargestCompressibleInputOverhead();
  limits.max_bytes = fixed < limits.max_bytes ? (limits.max_bytes - fixed) * 256 / 257 : 0;
  return limits;
}

// A request holds at most a quarter of the memory budget, so several are in flight while the sources go on
// reading; never less than a few aggregates' worth. A record larger than this goes in a request of its own.
constexpr std::size_t kMinBudgetedRequestBytes = 256 << 10;

RequestLimits BudgetedRequestLimits(RequestLimits limits, const MemoryBudget* budget) {
  if (budget == nullptr) return limits;
  limits.max_bytes = std::min(limits.max_bytes, std::max(kMinBudgetedRequestBytes, budget->limit() / 4));
  return limits;
}

// Entries replayed from the spool at once: enough to keep the sender busy, few enough to bound memory.
constexpr std::uint64_t kReplayWindow = 4;

DeliveryPath::DeliveryPath(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http,
                           std::unique_ptr<Destination> destination, Compression compression,
                           RequestLimits limits, Duration max_age, SenderOptions sender_options,
                           Safekeeping keep)
    : loop_(loop),
      log_(log),
      destination_(Wrap(std::move(destination), compression)),
      compressing_(compression == Compression::kNone
                       ? nullptr
                       : static_cast<const CompressingDestination*>(destination_.get())),
      keep_(std::move(keep)),
      sender_(loop, log, http, *destination_, Charged(std::move(sender_options), keep_.budget)),
      collector_(loop, CompressedRequestLimits(BudgetedRequestLimits(limits, keep_.budget), compression),
                 max_age, [this](std::vector<WireRecord>&& records) { Route(std::move(records)); }) {
  uv_timer_init(loop_, &replay_timer_);
  replay_timer_.data = this;
  Sender::Spill spill;
  Sender::DeadLetter dead_letter;
  if (keep_.spool) {
    spill = [this](std::span<const WireRecord> records, Sender::KeepDone done) {
      Spill(records, std::move(done));
    };
    keep_.spool->set_on_readable([this] { ScheduleReplay(); });
    keep_.spool->set_on_acked([this] {
      // A spool that refused a write takes records again once what it held is delivered, whether or not
      // anything is written to it then (the log tells the operator the outage is over).
      if (spool_refusing_ && keep_.spool->empty()) TakesRecordsAgain();
      ScheduleReplay();
    });
    ScheduleReplay();  // what an earlier run left goes first
  }
  if (keep_.dead_letters) {
    dead_letter = [this](std::span<const WireRecord> records, const std::string& code,
                         const std::string& message, Sender::KeepDone done) {
      WriteDeadLetters(records, code, message, std::move(done));
    };
  }
  sender_.set_safekeeping(std::move(spill), std::move(dead_letter));
}

void DeliveryPath::Route(std::vector<WireRecord>&& records) {
  if (!keep_.spool || (!keep_.spool_always && keep_.spool->empty())) {
    sender_.Submit(std::move(records));
    return;
  }
  // Held here until the spool has it durably; the spool's disk job gets only the encoded bytes.
  auto held = std::make_shared<std::vector<WireRecord>>(std::move(records));
  ++routing_;
  Spill(*held, [this, held](Status written) {
    --routing_;
    if (written) {
      records_spooled_ += Sender::UserRecords(*held);
      for (const auto& r : *held) r.Ack();  // durable in the spool: the checkpoint may pass them
    } else if (!sender_drained_) {
      sender_.Submit(std::move(*held));
    } else {
      undelivered_ += Sender::UserRecords(*held);  // still behind their source checkpoints
    }
    FinishDrainIfDone();
  });
}

void DeliveryPath::Spill(std::span<const WireRecord> records, Sender::KeepDone done) {
  // Shared: Append drops its callback when it refuses at once, and done must still run then.
  auto finish = std::make_shared<Sender::KeepDone>(std::move(done));
  Status queued = keep_.spool->Append(records, [this, finish](Status written) {
    NoteSpoolWrite(written);
    (*finish)(std::move(written));
  });
  if (!queued) {
    NoteSpoolWrite(queued);
    (*finish)(std::move(queued));
  }
}

void DeliveryPath::NoteSpoolWrite(const Status& written) {
  if (written) {
    if (spool_refusing_) TakesRecordsAgain();
    return;
  }
  if (spool_refusing_) return;
  spool_refusing_ = true;
  log_.error(
      "flow {}: cannot write to the spool: {}; undelivered records wait in memory, and reading pauses when "
      "memory_limit is reached",
      keep_.flow, written.error().message());
}

void DeliveryPath::TakesRecordsAgain() {
  spool_refusing_ = false;
  log_.info("flow {}: the spool takes records again", keep_.flow);
}

void DeliveryPath::WriteDeadLetters(std::span<const WireRecord> records, const std::string& code,
                                    const std::string& message, Sender::KeepDone done) {
  std::vector<DeadLetter> letters;
  letters.reserve(records.size());
  for (const auto& r : records) {
    DeadLetter letter;
    letter.flow = keep_.flow;
    letter.destination = destination_->description();
    letter.error_code = code;
    letter.error_message = message;
    letter.partition_key = r.partition_key;
    letter.explicit_hash_key = r.explicit_hash_key;
    letter.data = r.data;
    letter.user_records = r.user_records;
    letters.push_back(letter);
  }
  // The letters are formatted before Write returns; the records need not wait for the disk.
  keep_.dead_letters->Write(letters, [this, done = std::move(done)](Status written) {
    if (!written) {
      // A full or read-only disk refuses every write alike: a line per kind a minute, counted.
      if (auto note = dead_letter_failures_.Admit(written.error().message(), uv_now(loop_))) {
        log_.error("flow {}: cannot write dead letters: {}; the records stay queued{}", keep_.flow,
                   written.error().message(), *note);
      }
    }
    done(std::move(written));
  });
}

void DeliveryPath::ScheduleReplay() {
  if (replay_scheduled_ || draining_) return;
  replay_scheduled_ = true;
  // Not at once: acknowledgements arrive from inside the sender's response handling.
  uv_timer_start(
      &replay_timer_, [](uv_timer_t* t) { static_cast<DeliveryPath*>(t->data)->Replay(); }, 0, 0);
}

void DeliveryPath::Replay() {
  replay_scheduled_ = false;
  spool::Spool& spool = *keep_.spool;
  while (!draining_ && spool.entries_out() < kReplayWindow) {
    // One entry always goes, so a full budget cannot stall the spool that would free it.
    if (spool.entries_out() > 0 && keep_.budget != nullptr && keep_.budget->used() >= keep_.budget->limit())
      break;
    std::vector<WireRecord> records;
    if (!spool.Next(&records)) {
      // Reading to the end of a fully acknowledged segment deletes it: the spool may have just become
      // empty without a further acknowledgement to tell.
      if (spool_refusing_ && spool.empty()) TakesRecordsAgain();
      break;
    }
    sender_.Submit(std::move(records), /*spooled=*/true);
  }
}

void DeliveryPath::Drain(Duration timeout, std::function<void(std::size_t)> on_drained) {
  collector_.FlushNow();
  draining_ = true;
  uv_timer_stop(&replay_timer_);
  on_drained_ = std::move(on_drained);
  sender_.Drain(timeout, [this](std::size_t undelivered) {
    sender_drained_ = true;
    undelivered_ += undelivered;
    FinishDrainIfDone();
  });
}

void DeliveryPath::FinishDrainIfDone() {
  // Requests written ahead to the spool are waited for, also past the timeout: their records are
  // acknowledged only once durable.
  if (!sender_drained_ || routing_ > 0 || !on_drained_) return;
  auto done = std::move(on_drained_);
  on_drained_ = nullptr;
  done(undelivered_);
}

void DeliveryPath::Close(std::function<void()> on_closed) {
  auto closed = JoinCallbacks(5, std::move(on_closed));
  collector_.Close(closed);
  sender_.Close(closed);
  // Disk work still under way (deleting delivered segments, say) ends before the flow is closed, so a
  // flow that replaces this one finds the spool folder and the dead-letter file settled.
  if (keep_.spool) {
    keep_.spool->WhenIdle(closed);
  } else {
    closed();
  }
  if (keep_.dead_letters) {
    keep_.dead_letters->WhenIdle(closed);
  } else {
    closed();
  }
  CloseHandle(&replay_timer_, closed);
}

std::string DeliveryPath::Summary() const {
  const SenderCounters& s = sender_.counters();
  std::string out = fmt::format("requests {}, records retried {}, failed requests {}, unsent {}", s.requests,
                                s.records_retried, s.request_failures, sender_.unsent_user_records());
  if (keep_.spool) {
    out += fmt::format(", spooled {}, spool {} bytes", records_spooled_ + s.records_spooled,
                       keep_.spool->bytes());
  }
  if (s.records_dead_lettered > 0) out += fmt::format(", dead letters {}", s.records_dead_lettered);
  return out;
}

void DeliveryPath::AppendCounters(std::vector<Output::Counter>& out) const {
  const SenderCounters& s = sender_.counters();
  out.insert(out.end(), {
                            {"records_sent", s.user_records_sent},
                            {"record_bytes_sent", s.record_bytes_sent},
                            {"records_unsent", sender_.unsent_user_records()},
                            {"requests", s.requests},
                            {"request_failures", s.request_failures},
                            {"records_retried", s.records_retried},
                            {"payload_bytes", s.payload_bytes},
                            {"records_spooled", records_spooled_ + s.records_spooled},
                            {"records_dead_lettered", s.records_dead_lettered},
                            {"requests_split", s.requests_split},
                        });
  if (keep_.spool) {
    const spool::SpoolCounters& c = keep_.spool->counters();
    out.insert(out.end(), {
                              {"spool_bytes", keep_.spool->bytes()},
                              {"spool_entries", keep_.spool->entries_pending()},
                              {"spool_oldest_age_s", keep_.spool->oldest_age_s()},
                              {"spool_entries_written", c.entries_written},
                              {"spool_entries_replayed", c.entries_replayed},
                              {"spool_full_refusals", c.full_refusals},
                              {"spool_write_errors", c.write_errors},
                              {"spool_corruptions", c.corruptions},
                          });
  }
  if (compressing_ != nullptr) {
    out.insert(out.end(), {
                              {"compressed_bytes_in", compressing_->counters().bytes_in},
                              {"compressed_bytes_out", compressing_->counters().bytes_out},
                          });
  }
}

}  // namespace ferry
