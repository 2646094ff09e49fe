// Sender: sends collected requests to one destination, a bounded number at a time, and retries what
// fails: only the failed records after a per-record failure, the whole request after a whole-request
// failure, each after an exponential backoff with full jitter. A record is acknowledged to its batch
// only when the endpoint has stored it. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/core/units.h"
#include "agent/delivery/destination.h"
#include "agent/net/http_client.h"

namespace ferry {

struct SenderOptions {
  std::size_t max_in_flight = 4;  // requests at once to this destination
  Duration backoff_base{100};
  Duration backoff_cap{10000};
  std::uint32_t request_timeout_ms = 30000;
};

struct SenderCounters {
  std::uint64_t requests = 0;
  std::uint64_t records_sent = 0;       // records acknowledged by the endpoint (aggregates count once)
  std::uint64_t user_records_sent = 0;  // the user records inside them
  std::uint64_t wrong_shard = 0;        // aggregates stored on another shard than predicted
  std::uint64_t records_retried = 0;
  std::uint64_t request_failures = 0;           // whole requests that failed
  std::uint64_t payload_bytes = 0;              // request bodies sent
  std::map<std::string, std::uint64_t> errors;  // by error code, requests and records alike
};

class Sender {
 public:
  Sender(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http, Destination& destination,
         SenderOptions options);
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Queues one request's worth of records.
  void Submit(std::vector<WireRecord>&& records);

  // Called with a stored record that went to another shard than its predicted_shard (the stream was
  // resharded); the handler owns it from then on and acknowledges it when it is done with it. Without a
  // handler such records are acknowledged like any other.
  void set_on_wrong_shard(std::function<void(WireRecord&&, const std::string& shard)> handler) {
    on_wrong_shard_ = std::move(handler);
  }

  // Lets queued and retried records go out until none are left or timeout passes; then calls on_done
  // with the number of records given up. Responses that arrive afterwards still acknowledge records.
  void Drain(Duration timeout, std::function<void(std::size_t undelivered)> on_done);
  // Closes the timers; on_closed runs when they are closed. Call after the HTTP client has stopped.
  void Close(std::function<void()> on_closed);

  const SenderCounters& counters() const { return counters_; }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t unsent_records() const;
  // The user records inside the unsent records (what the log and the shutdown report count).
  std::size_t unsent_user_records() const;
  static std::size_t UserRecords(const std::vector<WireRecord>& records);

 private:
  struct Request {
    std::vector<WireRecord> records;
    std::uint32_t attempt = 0;
  };

  void Pump();
  void Send(std::shared_ptr<Request> request);
  void OnResponse(Request& request, const net::HttpResponse& response);
  // Schedules request after a backoff; returns the delay in ms.
  std::uint64_t Retry(Request&& request);
  void OnRetryTimer();
  void ArmRetryTimer();
  void CheckDrained();
  void FinishDrain();
  std::uint64_t Backoff(std::uint32_t attempt);

  uv_loop_t* loop_;
  spdlog::logger& log_;
  net::HttpClient& http_;
  Destination& destination_;
  SenderOptions options_;
  SenderCounters counters_;
  std::minstd_rand jitter_;

  std::deque<Request> ready_;
  std::multimap<std::uint64_t, Request> waiting_;  // due time (loop ms) -> request
  std::size_t in_flight_ = 0;
  std::size_t in_flight_records_ = 0;
  std::size_t in_flight_user_records_ = 0;
  std::function<void(WireRecord&&, const std::string& shard)> on_wrong_shard_;
  uv_timer_t retry_timer_{};
  uv_timer_t drain_timer_{};
  bool draining_ = false;
  bool abandoned_ = false;  // the drain timed out: failures are no longer retried
  std::function<void(std::size_t)> on_drained_;
  int closing_ = 0;
  std::function<void()> on_closed_;
};

}  // namespace ferry
