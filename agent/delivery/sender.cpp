// Sender: the request queue, the retry schedule and the drain at shutdown.
#include "agent/delivery/sender.h"

#include <algorithm>

#include <fmt/format.h>

namespace ferry {

Sender::Sender(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http, Destination& destination,
               SenderOptions options)
    : loop_(loop),
      log_(log),
      http_(http),
      destination_(destination),
      options_(options),
      jitter_(std::random_device{}()),
      admission_(options.rate_limit_percent, options.one_request_per_shard) {
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

void Sender::Submit(std::vector<WireRecord>&& records) {
  if (records.empty()) return;
  const std::uint64_t seq = next_seq_++;
  ready_.emplace(seq, MakeRequest(std::move(records), 0, seq));
  Pump();
}

std::size_t Sender::UserRecords(const std::vector<WireRecord>& records) {
  std::size_t n = 0;
  for (const auto& r : records) n += r.user_records;
  return n;
}

std::size_t Sender::unsent_user_records() const {
  std::size_t n = in_flight_user_records_;
  for (const auto& [seq, r] : ready_) n += UserRecords(r.records);
  for (const auto& [due, r] : waiting_) n += UserRecords(r.records);
  return n;
}

std::size_t Sender::unsent_records() const {
  std::size_t n = in_flight_records_;
  for (const auto& [seq, r] : ready_) n += r.records.size();
  for (const auto& [due, r] : waiting_) n += r.records.size();
  return n;
}

void Sender::Pump() {
  if (abandoned_) return;
  const std::uint64_t now = uv_now(loop_);
  admission_.BeginPass(now);
  auto it = ready_.begin();
  while (it != ready_.end() && in_flight_ < options_.max_in_flight && admission_.pass_open()) {
    Request& request = it->second;
    switch (admission_.Consider(request.load)) {
      case SendAdmission::Verdict::kGo: {
        auto sending = std::make_shared<Request>(std::move(request));
        it = ready_.erase(it);
        if (sending->throttled_since) counters_.throttle_wait_ms += now - *sending->throttled_since;
        admission_.Sent(sending->load, now);
        Send(std::move(sending));
        continue;
      }
      case SendAdmission::Verdict::kThrottled:
        if (!request.throttled_since) {
          request.throttled_since = now;
          ++counters_.throttle_waits;
        }
        break;
      case SendAdmission::Verdict::kShardBusy:
        if (!request.waited_for_shard) {
          request.waited_for_shard = true;
          ++counters_.shard_waits;
        }
        break;
      case SendAdmission::Verdict::kBehind:
        break;
    }
    ++it;
  }
  // Without a throttled request the queue moves on responses and retries alone.
  ArmThrottleTimer(admission_.delay());
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
  net::HttpRequest http_request = destination_.BuildRequest(request->records);
  http_request.timeout_ms = options_.request_timeout_ms;
  ++in_flight_;
  in_flight_records_ += request->records.size();
  in_flight_user_records_ += UserRecords(request->records);
  ++counters_.requests;
  counters_.payload_bytes += http_request.body.size();
  http_.Send(std::move(http_request), [this, request = std::move(request)](net::HttpResponse&& response) {
    --in_flight_;
    in_flight_records_ -= request->records.size();
    in_flight_user_records_ -= UserRecords(request->records);
    // Its shards stay busy until a failed part holds them (OnResponse may submit redirected records).
    const RequestLoad load = admission_.per_shard() ? request->load : RequestLoad{};
    OnResponse(*request, response);
    admission_.Free(load);
    Pump();
    CheckDrained();
  });
}

void Sender::OnResponse(Request& request, const net::HttpResponse& response) {
  RequestOutcome outcome = destination_.ReadResponse(response, request.records.size());
  if (outcome.failed) {
    ++counters_.request_failures;
    ++counters_.errors[outcome.error_code];
    if (abandoned_) return;
    std::size_t count = request.records.size();
    std::uint32_t attempt = request.attempt + 1;
    std::uint64_t delay = Retry(std::move(request));
    log_.warn("{}: request of {} records failed ({}: {}); retrying in {} ms (attempt {})",
              destination_.description(), count, outcome.error_code, outcome.error_message, delay, attempt);
    return;
  }
  std::vector<WireRecord> failed;
  std::map<std::string, std::size_t> codes;
  for (std::size_t i = 0; i < request.records.size(); ++i) {
    if (outcome.record_errors[i].empty()) {
      WireRecord& record = request.records[i];
      ++counters_.records_sent;
      counters_.user_records_sent += record.user_records;
      const std::string* shard = i < outcome.record_shards.size() ? &outcome.record_shards[i] : nullptr;
      if (on_wrong_shard_ && !record.predicted_shard.empty() && shard != nullptr && !shard->empty() &&
          *shard != record.predicted_shard) {
        ++counters_.wrong_shard;
        on_wrong_shard_(std::move(record), *shard);
      } else {
        record.Ack();
      }
    } else {
      ++codes[outcome.record_errors[i]];
      ++counters_.errors[outcome.record_errors[i]];
      failed.push_back(std::move(request.records[i]));
    }
  }
  if (failed.empty() || abandoned_) return;
  // One line per response, not per record: counts by error code and one sample message.
  std::string summary;
  for (const auto& [code, n] : codes)
    summary += fmt::format("{}{} x{}", summary.empty() ? "" : ", ", code, n);
  log_.warn("{}: {} of {} records failed ({}; e.g. \"{}\"); retrying them", destination_.description(),
            failed.size(), request.records.size(), summary, outcome.first_record_message);
  counters_.records_retried += failed.size();
  Retry(MakeRequest(std::move(failed), request.attempt, request.seq));
}

std::uint64_t Sender::Backoff(std::uint32_t attempt) {
  auto base = static_cast<std::uint64_t>(options_.backoff_base.count());
  auto cap = static_cast<std::uint64_t>(options_.backoff_cap.count());
  std::uint64_t ceiling = attempt >= 20 ? cap : std::min(cap, base << attempt);
  // Full jitter (random in [0, ceiling]): spreads retries of many shards and hosts apart.
  return std::uniform_int_distribution<std::uint64_t>(0, std::max<std::uint64_t>(ceiling, 1))(jitter_);
}

std::uint64_t Sender::Retry(Request&& request) {
  std::uint64_t delay = Backoff(request.attempt);
  ++request.attempt;
  request.throttled_since.reset();
  request.waited_for_shard = false;
  admission_.Occupy(request.load);  // newer requests of its shards wait for it
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
    admission_.Free(request.load);
    // Back in its original place: before the newer requests of its shards.
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
  CheckDrained();
}

void Sender::CheckDrained() {
  if (draining_ && on_drained_ && in_flight_ == 0 && ready_.empty() && waiting_.empty()) FinishDrain();
}

void Sender::FinishDrain() {
  if (!on_drained_) return;
  std::size_t undelivered = unsent_user_records();
  abandoned_ = true;
  ready_.clear();
  for (const auto& [due, request] : waiting_) admission_.Free(request.load);
  waiting_.clear();
  uv_timer_stop(&drain_timer_);
  uv_timer_stop(&retry_timer_);
  uv_timer_stop(&throttle_timer_);
  auto done = std::move(on_drained_);
  on_drained_ = nullptr;
  done(undelivered);
}

void Sender::Close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  closing_ = 3;
  auto closed = [](uv_handle_t* h) {
    auto* self = static_cast<Sender*>(h->data);
    if (--self->closing_ == 0 && self->on_closed_) self->on_closed_();
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&retry_timer_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&drain_timer_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&throttle_timer_), closed);
}

}  // namespace ferry
