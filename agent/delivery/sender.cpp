// Sender: the request queue, the retry schedule and the drain at shutdown.
#include "agent/delivery/sender.h"

#include <algorithm>

#include <fmt/format.h>

#include "agent/core/uv_handle.h"
#include "agent/delivery/error_class.h"

namespace ferry {
namespace {

// The most an answer to a request of n records may hold: a PutRecords or PutRecordBatch result is 100 to
// 300 bytes a record (a sequence number and a shard id, or an error code and message), so four times that,
// plus room for an error document. A longer answer fails the request (kResponseTooLarge) and is retried.
constexpr std::size_t kResponseBaseBytes = std::size_t{64} << 10;
constexpr std::size_t kResponseBytesPerRecord = std::size_t{1} << 10;

}  // namespace

Sender::Sender(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http, Destination& destination,
               SenderOptions options)
    : loop_(loop),
      log_(log),
      http_(http),
      destination_(destination),
      options_(options),
      jitter_(std::random_device{}()),
      gate_(options.gate != nullptr ? options.gate : &open_gate_) {
  uv_timer_init(loop_, &retry_timer_);
  uv_timer_init(loop_, &drain_timer_);
  uv_timer_init(loop_, &throttle_timer_);
  retry_timer_.data = this;
  drain_timer_.data = this;
  throttle_timer_.data = this;
}

Sender::Request Sender::MakeRequest(std::vector<WireRecord>&& records, std::uint32_t attempt,
                                    std::uint64_t seq) {
  Request request;
  request.records = std::move(records);
  request.attempt = attempt;
  request.seq = seq;
  request.load = RequestLoad::Of(request.records);
  return request;
}

void Sender::Submit(std::vector<WireRecord>&& records, bool spooled) {
  if (records.empty()) return;
  const std::uint64_t seq = next_seq_++;
  auto it = ready_.emplace(seq, MakeRequest(std::move(records), 0, seq));
  it->second.spooled = spooled;
  Pump();
}

std::size_t Sender::UserRecords(const std::vector<WireRecord>& records) {
  std::size_t n = 0;
  for (const auto& r : records) n += r.user_records;
  return n;
}

std::size_t Sender::unsent_user_records() const {
  std::size_t n = in_flight_user_records_ + keeping_user_records_;
  for (const auto& [seq, r] : ready_) n += UserRecords(r.records);
  for (const auto& [due, r] : waiting_) n += UserRecords(r.records);
  return n;
}

std::size_t Sender::unsent_records() const {
  std::size_t n = in_flight_records_ + keeping_records_;
  for (const auto& [seq, r] : ready_) n += r.records.size();
  for (const auto& [due, r] : waiting_) n += r.records.size();
  return n;
}

void Sender::Pump() {
  if (abandoned_) return;
  const std::uint64_t now = uv_now(loop_);
  gate_->BeginPass(now);
  auto it = ready_.begin();
  while (it != ready_.end() && in_flight_ < options_.max_in_flight && gate_->pass_open() &&
         !OverBudget(it->second)) {
    Request& request = it->second;
    switch (gate_->Consider(request.load)) {
      case SendGate::Verdict::kGo: {
        auto sending = std::make_shared<Request>(std::move(request));
        it = ready_.erase(it);
        if (sending->throttled_since) counters_.throttle_wait_ms += now - *sending->throttled_since;
        gate_->Sent(sending->load, now);
        Send(std::move(sending));
        continue;
      }
      case SendGate::Verdict::kThrottled:
        if (!request.throttled_since) {
          request.throttled_since = now;
          ++counters_.throttle_waits;
        }
        break;
      case SendGate::Verdict::kLaneBusy:
        if (!request.waited_for_lane) {
          request.waited_for_lane = true;
          ++counters_.lane_waits;
        }
        break;
      case SendGate::Verdict::kBehind:
        break;
    }
    ++it;
  }
  // Without a throttled request the queue moves on responses and retries alone.
  ArmThrottleTimer(gate_->delay());
}

bool Sender::OverBudget(const Request& request) const {
  if (options_.budget == nullptr || in_flight_ == 0) return false;
  std::size_t bytes = 0;
  for (const WireRecord& record : request.records) bytes += record.size();
  return options_.budget->used() + bytes > options_.budget->limit();
}

void Sender::ArmThrottleTimer(std::uint64_t delay) {
  if (closing_ > 0) return;
  if (delay == 0) {
    uv_timer_stop(&throttle_timer_);
    return;
  }
  uv_timer_start(
      &throttle_timer_, [](uv_timer_t* t) { static_cast<Sender*>(t->data)->Pump(); }, delay, 0);
}

void Sender::Send(std::shared_ptr<Request> request) {
  auto built = destination_.BuildRequest(request->records);
  if (!built) {
    NotBuilt(std::move(*request), built.error());
    return;
  }
  net::HttpRequest http_request = std::move(*built);
  request->signed_at = uv_now(loop_);
  http_request.timeout_ms = options_.request_timeout_ms;
  http_request.max_response_bytes = kResponseBaseBytes + kResponseBytesPerRecord * request->records.size();
  // The answer's body counts against the budget from its first byte until it has been read.
  auto received = std::make_shared<std::size_t>(0);
  if (options_.budget != nullptr) {
    http_request.on_body_bytes = [budget = options_.budget, received](std::size_t bytes) {
      *received += bytes;
      budget->Take(bytes);
    };
  }
  ++in_flight_;
  in_flight_records_ += request->records.size();
  in_flight_user_records_ += UserRecords(request->records);
  ++counters_.requests;
  counters_.payload_bytes += http_request.body.size();
  const std::size_t charged = options_.budget != nullptr ? http_request.body.size() : 0;
  if (charged > 0) options_.budget->Take(charged);
  auto id = std::make_shared<net::HttpClient::RequestId>(0);
  *id = http_.Send(std::move(http_request),
                   [this, charged, received, id, request = std::move(request)](net::HttpResponse&& response) {
                     sent_.erase(*id);
                     if (charged > 0) options_.budget->Give(charged);
                     --in_flight_;
                     in_flight_records_ -= request->records.size();
                     in_flight_user_records_ -= UserRecords(request->records);
                     if (cancelling_) {
                       // Closing: its records are let go unacknowledged, past their source checkpoints.
                       if (*received > 0) options_.budget->Give(*received);
                       if (in_flight_ == 0) StepClosed();
                       return;
                     }
                     // Its lanes stay busy until a failed part holds them (OnResponse may submit redirected
                     // records).
                     const RequestLoad load = gate_->holds_lanes() ? request->load : RequestLoad{};
                     OnResponse(*request, response);
                     if (*received > 0) options_.budget->Give(*received);
                     gate_->Free(load);
                     Pump();
                     CheckDrained();
                   });
  sent_.insert(*id);
}

void Sender::Bill(const WireRecord& record) {
  counters_.billed_units += options_.billing(record.data.size());
  if (record.unaggregated_units != 0) {
    counters_.billed_units_unaggregated += record.unaggregated_units;
  } else {
    const std::size_t users = std::max<std::uint32_t>(record.user_records, 1);
    counters_.billed_units_unaggregated += users * options_.billing(record.data.size() / users);
  }
}

void Sender::OnResponse(Request& request, const net::HttpResponse& response) {
  RequestOutcome outcome = destination_.ReadResponse(response, request.records.size());
  if (outcome.failed) {
    ++counters_.request_failures;
    ++counters_.errors[outcome.error_code];
    if (!abandoned_) OnRequestFailed(std::move(request), outcome);
    return;
  }
  std::vector<WireRecord> failed;
  std::map<std::string, std::size_t> codes;
  std::map<std::string, std::vector<WireRecord>> refused;  // by error code: permanent failures
  for (std::size_t i = 0; i < request.records.size(); ++i) {
    const std::string& code = outcome.record_errors[i];
    WireRecord& record = request.records[i];
    if (code.empty()) {
      ++counters_.records_sent;
      counters_.user_records_sent += record.user_records;
      if (options_.billing != nullptr) Bill(record);
      counters_.record_bytes_sent += record.data.size();
      const std::string* lane = i < outcome.record_lanes.size() ? &outcome.record_lanes[i] : nullptr;
      if (on_other_lane_ && !record.lane.empty() && lane != nullptr && !lane->empty() &&
          *lane != record.lane) {
        on_other_lane_(std::move(record), *lane);
      } else {
        record.Ack();
      }
      continue;
    }
    ++codes[code];
    ++counters_.errors[code];
    if (ClassifyError(code, 0) == ErrorClass::kPermanent) {
      refused[code].push_back(std::move(record));
    } else {
      failed.push_back(std::move(record));
    }
  }
  if (abandoned_) return;
  // One line per response, not per record: counts by error code and one sample message.
  std::string summary;
  std::string kinds;  // what makes two such lines alike: the codes, not their counts
  for (const auto& [code, n] : codes) {
    summary += fmt::format("{}{} x{}", summary.empty() ? "" : ", ", code, n);
    kinds += " " + code;
  }
  auto failure = [&](std::string code) {
    Failure f;
    f.whole_request = false;
    f.kind = ErrorClass::kPermanent;
    f.code = std::move(code);
    f.message = outcome.first_record_message;
    f.summary = summary;
    f.kinds = kinds;
    f.of = request.records.size();
    return f;
  };
  for (auto& [code, records] : refused) {
    if (!dead_letter_) {
      failed.insert(failed.end(), std::make_move_iterator(records.begin()),
                    std::make_move_iterator(records.end()));
      continue;
    }
    Request r = MakeRequest(std::move(records), request.attempt, request.seq);
    r.spooled = request.spooled;
    DeadLetterOrRetry(std::move(r), failure(code));
  }
  if (failed.empty()) return;
  Request retry = MakeRequest(std::move(failed), request.attempt, request.seq);
  retry.spooled = request.spooled;
  Failure f = failure("");
  f.kind = ErrorClass::kTransient;
  SpillOrRetry(std::move(retry), std::move(f));
}

void Sender::OnRequestFailed(Request&& request, const RequestOutcome& outcome) {
  const ErrorClass kind = ClassifyError(outcome.error_code, outcome.http_status, outcome.error_message);
  const std::size_t count = request.records.size();
  // Lines of one kind (the same error, the same action) are written once a minute with a count.
  const std::string error = fmt::format("{} {}", outcome.error_code, outcome.error_message);
  std::string note;
  if (kind == ErrorClass::kSkew && outcome.server_time && options_.correct_clock) {
    options_.correct_clock(*outcome.server_time);
    log_.warn(
        "{}: the endpoint refused a signature for the host's clock ({}); signing with the endpoint's "
        "time from now on",
        destination_.description(), outcome.error_message);
  }
  if (kind == ErrorClass::kCredentials && options_.credentials_refused) {
    options_.credentials_refused(request.signed_at);
  }
  if (kind == ErrorClass::kPermanent && count > 1) {
    // The API does not say which record it objects to: halves are tried until the refused ones are alone.
    ++counters_.requests_split;
    if (Loud("split " + error, note)) {
      log_.warn(
          "{}: request of {} records refused ({}: {}); sending it again in halves to find the records it "
          "refuses{}",
          destination_.description(), count, outcome.error_code, outcome.error_message, note);
    }
    std::vector<WireRecord> second(std::make_move_iterator(request.records.begin() + count / 2),
                                   std::make_move_iterator(request.records.end()));
    request.records.resize(count / 2);
    for (auto* half : {&request.records, &second}) {
      // Both keep the request's place, in order (a multimap keeps equal keys in insertion order).
      auto it = ready_.emplace(request.seq, MakeRequest(std::move(*half), request.attempt, request.seq));
      it->second.spooled = request.spooled;
    }
    return;
  }
  Failure failure;
  failure.kind = kind;
  failure.code = outcome.error_code;
  failure.message = outcome.error_message;
  if (kind == ErrorClass::kPermanent) {
    DeadLetterOrRetry(std::move(request), std::move(failure));
    return;
  }
  SpillOrRetry(std::move(request), std::move(failure));
}

void Sender::SpillOrRetry(Request&& request, Failure failure) {
  if (draining_ && request.spooled) return;  // safe in the spool; replayed after the restart
  // A request that failed as a whole goes to the spool at once (an outage should not hold memory).
  // Throttling is routine: failed records get a first retry from memory, sparing the disk, and are spilled
  // when they fail again.
  const bool spill_now = failure.whole_request || request.attempt > 0 || draining_;
  if (!spill_now || !CanSpill(request)) {
    RetryFailed(std::move(request), failure);
    return;
  }
  KeepAside(
      std::move(request), spill_,
      [this, failure](const Request& r) {
        counters_.records_spooled += UserRecords(r.records);
        std::string note;
        if (failure.whole_request) {
          if (Loud("spooled " + failure.code + " " + failure.message, note)) {
            log_.warn("{}: request of {} records failed ({}: {}); written to the spool{}",
                      destination_.description(), r.records.size(), failure.code, failure.message, note);
          }
        } else if (Loud("records spooled" + failure.kinds, note)) {
          log_.warn("{}: {} of {} records failed again ({}; e.g. \"{}\"); written to the spool{}",
                    destination_.description(), r.records.size(), failure.of, failure.summary,
                    failure.message, note);
        }
      },
      [this, failure](Request&& r) { RetryFailed(std::move(r), failure); });
}

void Sender::RetryFailed(Request&& request, const Failure& failure) {
  const std::size_t count = request.records.size();
  std::string note;
  if (!failure.whole_request) {
    if (Loud("records retried" + failure.kinds, note)) {
      log_.warn("{}: {} of {} records failed ({}; e.g. \"{}\"); retrying them{}", destination_.description(),
                count, failure.of, failure.summary, failure.message, note);
    }
    counters_.records_retried += count;
    Retry(std::move(request));
    return;
  }
  // Lines of one kind (the same error, the same action) are written once a minute with a count.
  const std::string error = failure.code + " " + failure.message;
  const bool slow = failure.kind == ErrorClass::kOperator || failure.kind == ErrorClass::kPermanent;
  const std::uint32_t attempt = request.attempt + 1;
  const std::uint64_t delay = Retry(std::move(request), slow);
  if (slow) {
    // Only an operator can fix it: said loudly, and retried at a pace that does not flood the log.
    const char* what = failure.kind != ErrorClass::kOperator
                           ? "and the refused records could not be set aside"
                       : failure.code == kUntrustedCertificate
                           ? "check aws.ca_file and the endpoint's certificate and host name"
                           : "check the stream and the permissions";
    if (Loud("slow " + error, note)) {
      log_.error("{}: request of {} records failed ({}: {}; {}); retrying in {} ms (attempt {}){}",
                 destination_.description(), count, failure.code, failure.message, what, delay, attempt,
                 note);
    }
    return;
  }
  if (Loud("retry " + error, note)) {
    log_.warn("{}: request of {} records failed ({}: {}); retrying in {} ms (attempt {}){}",
              destination_.description(), count, failure.code, failure.message, delay, attempt, note);
  }
}

void Sender::NotBuilt(Request&& request, const Error& error) {
  // Nothing was sent (the compressor could not allocate, say): the request waits out a backoff like any
  // transient failure and is built again.
  ++counters_.request_failures;
  ++counters_.errors[std::string(kEncodingFailed)];
  const RequestLoad load = gate_->holds_lanes() ? request.load : RequestLoad{};
  const std::size_t count = request.records.size();
  const std::uint32_t attempt = request.attempt + 1;
  const std::uint64_t delay = Retry(std::move(request));
  gate_->Free(load);
  std::string note;
  if (Loud(fmt::format("{} {}", kEncodingFailed, error.message()), note)) {
    log_.warn("{}: cannot build a request of {} records ({}: {}); retrying in {} ms (attempt {}){}",
              destination_.description(), count, kEncodingFailed, error.message(), delay, attempt, note);
  }
}

bool Sender::Loud(std::string_view kind, std::string& note) {
  auto admitted = repeats_.Admit(kind, uv_now(loop_));
  if (!admitted) return false;
  note = std::move(*admitted);
  return true;
}

void Sender::DeadLetterOrRetry(Request&& request, Failure failure) {
  if (!dead_letter_) {
    SpillOrRetry(std::move(request), std::move(failure));
    return;
  }
  KeepAside(
      std::move(request),
      [this, &failure](std::span<const WireRecord> records, KeepDone done) {
        dead_letter_(records, failure.code, failure.message, std::move(done));
      },
      [this, failure](const Request& r) {
        counters_.records_dead_lettered += UserRecords(r.records);
        std::string note;
        if (Loud(fmt::format("dead {} {}", failure.code, failure.message), note)) {
          log_.error("{}: {} records refused for good ({}: {}); written to the dead-letter file{}",
                     destination_.description(), r.records.size(), failure.code, failure.message, note);
        }
      },
      [this, failure](Request&& r) { SpillOrRetry(std::move(r), failure); });
}

void Sender::KeepAside(Request&& request, const Writer& write, std::function<void(const Request&)> kept,
                       std::function<void(Request&&)> refused) {
  const std::uint64_t id = next_keeping_++;
  Keeping& keeping =
      keeping_.emplace(id, Keeping{std::move(request), std::move(kept), std::move(refused)}).first->second;
  keeping_records_ += keeping.request.records.size();
  keeping_user_records_ += UserRecords(keeping.request.records);
  ++in_keep_call_;
  // `done` may run before write returns, and then keeping is gone.
  write(keeping.request.records, [this, id](Status status) { OnKept(id, std::move(status)); });
  --in_keep_call_;
}

void Sender::OnKept(std::uint64_t id, Status status) {
  auto node = keeping_.extract(id);
  if (node.empty()) return;
  Keeping& keeping = node.mapped();
  keeping_records_ -= keeping.request.records.size();
  keeping_user_records_ -= UserRecords(keeping.request.records);
  if (status.ok()) {
    keeping.kept(keeping.request);
    for (const auto& r : keeping.request.records) r.Ack();
  } else if (abandoned_) {
    // The drain is over: they stay behind their source checkpoints (or in the spool they came from).
    if (!keeping.request.spooled) undelivered_ += UserRecords(keeping.request.records);
  } else {
    keeping.refused(std::move(keeping.request));
  }
  if (in_keep_call_ > 0) return;  // called from inside KeepAside: its caller goes on from here
  Pump();
  CheckDrained();
  ReportDrained();
}

std::uint64_t Sender::Backoff(std::uint32_t attempt) {
  auto base = static_cast<std::uint64_t>(options_.backoff_base.count());
  auto cap = static_cast<std::uint64_t>(options_.backoff_cap.count());
  std::uint64_t ceiling = attempt >= 20 ? cap : std::min(cap, base << attempt);
  // Full jitter (random in [0, ceiling]): spreads retries of many shards and hosts apart.
  return std::uniform_int_distribution<std::uint64_t>(0, std::max<std::uint64_t>(ceiling, 1))(jitter_);
}

std::uint64_t Sender::Retry(Request&& request, bool slow) {
  const auto slow_ms = static_cast<std::uint64_t>(options_.slow_retry.count());
  std::uint64_t delay = slow ? std::uniform_int_distribution<std::uint64_t>(slow_ms / 2, slow_ms)(jitter_)
                             : Backoff(request.attempt);
  ++request.attempt;
  request.throttled_since.reset();
  request.waited_for_lane = false;
  gate_->Occupy(request.load);  // newer requests of its lanes wait for it
  waiting_.emplace(uv_now(loop_) + delay, std::move(request));
  ArmRetryTimer();
  return delay;
}

void Sender::ArmRetryTimer() {
  if (waiting_.empty() || closing_ > 0) return;
  std::uint64_t now = uv_now(loop_);
  std::uint64_t due = waiting_.begin()->first;
  uv_timer_start(
      &retry_timer_, [](uv_timer_t* t) { static_cast<Sender*>(t->data)->OnRetryTimer(); },
      due > now ? due - now : 0, 0);
}

void Sender::OnRetryTimer() {
  std::uint64_t now = uv_now(loop_);
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    Request& request = waiting_.begin()->second;
    gate_->Free(request.load);
    // Back in its original place: before the newer requests of its lanes.
    ready_.emplace(request.seq, std::move(request));
    waiting_.erase(waiting_.begin());
  }
  Pump();
  ArmRetryTimer();
}

void Sender::Drain(Duration timeout, std::function<void(std::size_t)> on_done) {
  draining_ = true;
  on_drained_ = std::move(on_done);
  uv_timer_start(
      &drain_timer_, [](uv_timer_t* t) { static_cast<Sender*>(t->data)->FinishDrain(); },
      static_cast<std::uint64_t>(timeout.count()), 0);
  // Only requests in flight are waited for: records from the spool stay there, and what waits for a retry
  // goes to the spool now rather than at the timeout.
  std::erase_if(ready_, [](const auto& entry) { return entry.second.spooled; });
  if (spill_) {
    std::vector<std::pair<std::uint64_t, Request>> retries;
    for (auto& [due, request] : waiting_) {
      gate_->Free(request.load);
      if (!request.spooled) retries.emplace_back(due, std::move(request));
    }
    waiting_.clear();
    for (auto& [due, request] : retries) {
      KeepAside(
          std::move(request), spill_,
          [this](const Request& r) { counters_.records_spooled += UserRecords(r.records); },
          [this, due = due](Request&& r) {
            // Refused: it waits for its retry as before.
            gate_->Occupy(r.load);
            waiting_.emplace(due, std::move(r));
            ArmRetryTimer();
          });
    }
  }
  CheckDrained();
}

void Sender::CheckDrained() {
  if (draining_ && on_drained_ && !finishing_ && in_flight_ == 0 && ready_.empty() && waiting_.empty() &&
      keeping_.empty()) {
    FinishDrain();
  }
}

void Sender::FinishDrain() {
  if (!on_drained_ || finishing_) return;
  finishing_ = true;
  abandoned_ = true;
  uv_timer_stop(&drain_timer_);
  uv_timer_stop(&retry_timer_);
  uv_timer_stop(&throttle_timer_);
  // In flight: still behind their source checkpoints, so read again after a restart.
  undelivered_ += in_flight_user_records_;
  std::vector<Request> left;
  for (auto& [seq, request] : ready_) left.push_back(std::move(request));
  for (auto& [due, request] : waiting_) {
    gate_->Free(request.load);
    left.push_back(std::move(request));
  }
  ready_.clear();
  waiting_.clear();
  for (auto& request : left) {
    if (request.spooled) continue;  // in the spool already
    if (!CanSpill(request)) {
      undelivered_ += UserRecords(request.records);
      continue;
    }
    // What the spool refuses is counted as undelivered when it says so (OnKept).
    KeepAside(
        std::move(request), spill_,
        [this](const Request& r) { counters_.records_spooled += UserRecords(r.records); }, [](Request&&) {});
  }
  ReportDrained();
}

void Sender::ReportDrained() {
  // Spills and dead letters under way are waited for, also past the timeout: what they take is durable.
  if (!finishing_ || !keeping_.empty() || !on_drained_) return;
  auto done = std::move(on_drained_);
  on_drained_ = nullptr;
  done(undelivered_);
}

void Sender::Close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  // The timers, and the requests still out: each is cancelled (its callback runs later, with "aborted"),
  // so the flow can close while the shared HTTP client goes on serving the others.
  closing_ = 1 + (in_flight_ > 0 ? 1 : 0);
  cancelling_ = true;
  const std::set<net::HttpClient::RequestId> out = sent_;
  for (auto id : out) http_.Cancel(id);
  CloseHandles({AsHandle(&retry_timer_), AsHandle(&drain_timer_), AsHandle(&throttle_timer_)},
               [this] { StepClosed(); });
}

void Sender::StepClosed() {
  if (--closing_ == 0 && on_closed_) on_closed_();
}

}  // namespace ferry
