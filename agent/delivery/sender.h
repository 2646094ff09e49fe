// Sender: sends collected requests to one destination, a bounded number at a time, and retries what
// fails: only the failed records after a per-record failure, the whole request after a whole-request
// failure, each after an exponential backoff with full jitter. A record is acknowledged to its batch
// only when the endpoint has stored it, or when it is safe elsewhere (error_class.h decides):
// - spill (the flow's spool): a request that failed as a whole, or records that failed again on their
//   retry, are written to the spool and acknowledged once durable there, so memory and the source
//   checkpoint move on. Records that came from the spool are retried in memory instead (they are on disk
//   already).
// - dead_letter: a record the endpoint will never take (a permanent error) is written there with the error.
//   A request refused as a whole for such an error is sent again in halves until the refused records are
//   alone, since the API does not say which record it objects to.
//   Both writes finish later (their disk work runs off the loop); until then the sender keeps the
//   records, and if a write fails they are retried as if there were no spool or dead-letter file.
// - errors only an operator can fix (missing stream, denied access, an untrusted certificate) are retried
//   every slow_retry.
// Failure lines are written once a minute per kind (the same error, the same action), with a count of the
// ones held back (core/repeat_filter.h): an outage fails every request alike. Answers are read up to a cap
// that grows with the request's records, and their bodies count against `budget` while they arrive.
// - a signature refused for a skewed clock corrects the clock from the answer's Date (correct_clock); the
//   retry is signed anew.
//
// Ready requests go oldest first; a retry, once its backoff is over, takes its request's old place, ahead
// of newer requests. A destination with lanes (WireRecord::lane: a Kinesis shard) may hold requests back
// per lane through a SendGate (send_gate.h; kinesis::ShardAdmission keeps Kinesis's per-shard rates and
// order): a held-back request holds back every later one that shares a lane with it, and later requests
// to other lanes go past it.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/core/memory_budget.h"
#include "agent/core/repeat_filter.h"
#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/delivery/billing_units.h"
#include "agent/delivery/destination.h"
#include "agent/delivery/error_class.h"
#include "agent/delivery/retry_options.h"
#include "agent/delivery/send_gate.h"
#include "agent/net/http_client.h"

namespace ferry {

struct SenderOptions {
  std::size_t max_in_flight = 4;  // requests at once to this destination
  Duration backoff_base = RetryOptions{}.backoff_base;
  Duration backoff_cap = RetryOptions{}.backoff_cap;
  Duration slow_retry = RetryOptions{}.slow_retry;  // for errors only an operator can fix
  std::uint32_t request_timeout_ms = net::HttpClientOptions{}.request_timeout_ms;
  // Holds requests back per lane (not owned; outlives the sender); null: every ready request may go.
  SendGate* gate = nullptr;
  // Called with the endpoint's time when it refused a signature for a skewed clock (see corrected_clock.h).
  std::function<void(std::int64_t server_unix_s)> correct_clock;
  // Called when the endpoint refused the credentials as expired, with the loop time the request was signed,
  // so fresh ones are fetched at once.
  std::function<void(std::uint64_t signed_at_ms)> credentials_refused;
  // Charged for each request body while it is being sent, and for the answer's body while it arrives and
  // is read (may be null): bodies are memory the records' batches do not cover (base64 makes a JSON body a
  // third larger than its records). A request waits while its body would not fit, unless nothing is in
  // flight.
  MemoryBudget* budget = nullptr;
  // How the endpoint bills an acknowledged record (billing_units.h); null: not counted.
  BillingRule billing = nullptr;
};

struct SenderCounters {
  std::uint64_t requests = 0;
  std::uint64_t records_sent = 0;       // records acknowledged by the endpoint (aggregates count once)
  std::uint64_t user_records_sent = 0;  // the user records inside them
  std::uint64_t record_bytes_sent = 0;  // data bytes of the records acknowledged (as sent: aggregated/packed)
  std::uint64_t records_retried = 0;
  std::uint64_t request_failures = 0;           // whole requests that failed
  std::uint64_t payload_bytes = 0;              // request bodies sent
  std::uint64_t throttle_waits = 0;             // request attempts the gate throttled
  std::uint64_t throttle_wait_ms = 0;           // their time from being held back to being sent
  std::uint64_t lane_waits = 0;                 // request attempts held back by a busy lane
  std::uint64_t records_spooled = 0;            // user records written to the spool after a failure
  std::uint64_t records_dead_lettered = 0;      // user records written to the dead-letter file
  std::uint64_t requests_split = 0;             // requests refused as a whole and sent again in halves
  std::map<std::string, std::uint64_t> errors;  // by error code, requests and records alike
  // With SenderOptions::billing: the units the acknowledged records are billed, and what their user records
  // would be billed sent one per record (WireRecord::unaggregated_units; for a record that does not know,
  // read back from the spool, an estimate: its user records each billed for an equal share of its data).
  std::uint64_t billed_units = 0;
  std::uint64_t billed_units_unaggregated = 0;
};

class Sender {
 public:
  Sender(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http, Destination& destination,
         SenderOptions options);
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Queues one request's worth of records; spooled: they came from the spool (and are never spilled).
  void Submit(std::vector<WireRecord>&& records, bool spooled = false);

  // spill: writes records to the spool; dead_letter: writes them with the error that makes them
  // undeliverable. Both finish asynchronously (the disk work runs off the loop): each calls `done` exactly
  // once, on the loop, at once or later, with Ok once the records are durable there, or with the error
  // that kept them out. The records stay valid and unchanged until then. Meanwhile the sender keeps them
  // (they count as unsent and hold their memory); it acknowledges them on Ok, and otherwise goes on as if
  // there were no such place: they stay in memory and are retried. Without the hooks, the same.
  using KeepDone = std::function<void(Status)>;
  using Spill = std::function<void(std::span<const WireRecord>, KeepDone done)>;
  using DeadLetter = std::function<void(std::span<const WireRecord>, const std::string& code,
                                        const std::string& message, KeepDone done)>;
  void set_safekeeping(Spill spill, DeadLetter dead_letter) {
    spill_ = std::move(spill);
    dead_letter_ = std::move(dead_letter);
  }

  // Called with a stored record that the answer says went to another lane than its own (a Kinesis stream
  // was resharded); the handler owns it from then on and acknowledges it when it is done with it. Without
  // a handler such records are acknowledged like any other.
  void set_on_other_lane(std::function<void(WireRecord&&, const std::string& lane)> handler) {
    on_other_lane_ = std::move(handler);
  }

  // Lets queued and retried records go out until none are left or timeout passes; then calls on_done
  // with the number of records given up. Responses that arrive afterwards still acknowledge records.
  // With a spill, what waits for a retry and what fails from now on is spilled at once, records from the
  // spool are let go (they stay there), and what is left at the timeout is spilled too. on_done waits
  // for every spill and dead-letter write under way to finish, also past the timeout: what they take is
  // durable, what they refuse is counted as given up.
  void Drain(Duration timeout, std::function<void(std::size_t undelivered)> on_done);
  // Cancels the requests still out (their records are let go unacknowledged) and closes the timers;
  // on_closed runs once every callback has run and every timer is closed. The HTTP client goes on serving
  // others. Call after Drain.
  void Close(std::function<void()> on_closed);

  const SenderCounters& counters() const { return counters_; }
  std::size_t in_flight() const { return in_flight_; }
  // Requests being written to the spool or the dead letters.
  std::size_t keeping() const { return keeping_.size(); }
  std::size_t unsent_records() const;
  // The user records inside the unsent records (what the log and the shutdown report count).
  std::size_t unsent_user_records() const;
  static std::size_t UserRecords(const std::vector<WireRecord>& records);

 private:
  struct Request {
    std::vector<WireRecord> records;
    std::uint32_t attempt = 0;
    std::uint64_t seq = 0;                         // queue order; a retry keeps its request's
    RequestLoad load;                              // per lane
    std::optional<std::uint64_t> throttled_since;  // loop ms the limiter first held this attempt back
    bool waited_for_lane = false;
    bool spooled = false;         // came from the spool
    std::uint64_t signed_at = 0;  // loop ms of the last attempt's signature
  };

  static Request MakeRequest(std::vector<WireRecord>&& records, std::uint32_t attempt, std::uint64_t seq);
  void Pump();
  // Whether building request's body now would take the memory budget past its limit while another request
  // is out (its response frees memory and pumps again). One request always goes, so a budget full of
  // records waiting to be sent cannot stall sending.
  bool OverBudget(const Request& request) const;
  void ArmThrottleTimer(std::uint64_t delay);
  void Send(std::shared_ptr<Request> request);
  void OnResponse(Request& request, const net::HttpResponse& response);
  // Adds an acknowledged record to the billing counters.
  void Bill(const WireRecord& record);
  void OnRequestFailed(Request&& request, const RequestOutcome& outcome);
  // The destination could not build the request (Destination::BuildRequest failed): retried after a backoff.
  void NotBuilt(Request&& request, const Error& error);
  // Whether a failure line of this kind is written now (repeats_); note then ends the line.
  bool Loud(std::string_view kind, std::string& note);

  // Why records failed, for what is done with them next and for the log.
  struct Failure {
    bool whole_request = true;  // else some records of a response
    ErrorClass kind = ErrorClass::kTransient;
    std::string code;     // the request's error code, or the refused records' code
    std::string message;  // the request's error message, or a sample record message
    std::string summary;  // records: "Code x3, Other x1"
    std::string kinds;    // records: " Code Other", what makes two such log lines alike
    std::size_t of = 0;   // records: how many the request held
  };
  // Records that failed and are not dead letters: to the spool if the policy says so now, else a retry.
  void SpillOrRetry(Request&& request, Failure failure);
  void RetryFailed(Request&& request, const Failure& failure);
  // Records an endpoint refused for good: to the dead letters if there are any, else SpillOrRetry.
  void DeadLetterOrRetry(Request&& request, Failure failure);

  // Hands request's records to write (a spill or dead-letter hook) and keeps the request until write is
  // done: on Ok, kept(request) runs and its records are acknowledged; otherwise refused gets it back (or,
  // once the drain has given up, it is counted as undelivered).
  using Writer = std::function<void(std::span<const WireRecord>, KeepDone)>;
  void KeepAside(Request&& request, const Writer& write, std::function<void(const Request&)> kept,
                 std::function<void(Request&&)> refused);
  void OnKept(std::uint64_t id, Status status);
  bool CanSpill(const Request& request) const { return !request.spooled && spill_ != nullptr; }
  // Schedules request after a backoff (slow: the slow_retry pace); returns the delay in ms.
  std::uint64_t Retry(Request&& request, bool slow = false);
  void OnRetryTimer();
  void ArmRetryTimer();
  void CheckDrained();
  void StepClosed();
  void FinishDrain();
  // Reports the drain once FinishDrain ran and nothing is being kept any more.
  void ReportDrained();
  std::uint64_t Backoff(std::uint32_t attempt);

  uv_loop_t* loop_;
  spdlog::logger& log_;
  net::HttpClient& http_;
  Destination& destination_;
  SenderOptions options_;
  SenderCounters counters_;
  std::minstd_rand jitter_;

  RepeatFilter repeats_;  // failure lines: one of a kind a minute, with a count of the rest
  SendGate open_gate_;    // admits everything, when the options name no gate
  SendGate* gate_;
  std::uint64_t next_seq_ = 0;
  std::multimap<std::uint64_t, Request> ready_;    // seq -> request (halves of a split share one)
  std::multimap<std::uint64_t, Request> waiting_;  // due time (loop ms) -> request
  std::size_t in_flight_ = 0;
  std::size_t in_flight_records_ = 0;
  std::size_t in_flight_user_records_ = 0;
  std::function<void(WireRecord&&, const std::string& lane)> on_other_lane_;
  Spill spill_;
  DeadLetter dead_letter_;
  // Requests being written to the spool or the dead letters, by id.
  struct Keeping {
    Request request;
    std::function<void(const Request&)> kept;
    std::function<void(Request&&)> refused;
  };
  std::map<std::uint64_t, Keeping> keeping_;
  std::uint64_t next_keeping_ = 0;
  std::size_t keeping_records_ = 0;
  std::size_t keeping_user_records_ = 0;
  int in_keep_call_ = 0;  // inside a hook: a `done` called at once leaves pumping to the caller
  uv_timer_t retry_timer_{};
  uv_timer_t drain_timer_{};
  uv_timer_t throttle_timer_{};  // wakes the queue when the gate lets a throttled request go
  bool draining_ = false;
  bool abandoned_ = false;  // the drain timed out: failures are no longer retried
  bool finishing_ = false;  // FinishDrain ran; the report waits for what is being kept
  std::size_t undelivered_ = 0;
  std::function<void(std::size_t)> on_drained_;
  int closing_ = 0;
  bool cancelling_ = false;                    // closing: answers only count down
  std::set<net::HttpClient::RequestId> sent_;  // requests out, for Close to cancel
  std::function<void()> on_closed_;
};

}  // namespace ferry
