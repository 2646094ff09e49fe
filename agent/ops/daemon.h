// Daemon: `ferry run` on one libuv loop. It builds the flows from a validated config, runs until
// SIGINT or SIGTERM, then shuts down in order: stop reading, send what was read (for at most
// shutdown_timeout), stop the HTTP client, close every handle, and return.
// Construct, Run() once, destroy; all on one thread.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <vector>

#include <spdlog/logger.h>

#include "agent/aws/aws_access.h"
#include "agent/checkpoint/ack_tracker.h"
#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/core/corrected_clock.h"
#include "agent/core/environment.h"
#include "agent/core/heap_retention.h"
#include "agent/core/memory_budget.h"
#include "agent/net/http_client.h"
#include "agent/ops/state_lock.h"
#include "agent/ops/status_server.h"
#include "agent/pipeline/flow.h"

namespace ferry {

class Daemon {
 public:
  Daemon(config::Config config, Environment env, std::shared_ptr<spdlog::logger> log);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Resolves credentials and endpoints, then runs the loop until a stop signal has been handled.
  // Errors before the loop starts (no credentials, a bad endpoint) come back as a Status.
  Status Run();

 private:
  Status Build();
  // Logs spool folders of flows that are no longer configured and still hold records.
  void WarnAboutOrphanSpools() const;
  void BeginShutdown(int signum);
  void OnFlowDrained(const Flow& flow, std::size_t undelivered);
  void CloseAll();
  void LogStats();
  std::string StatusSnapshot() const;

  config::Config config_;
  Environment env_;
  std::shared_ptr<spdlog::logger> log_;
  uv_loop_t loop_{};
  Status loop_ready_;  // uv_loop_init's result (core/event_loop.h); Run() fails with it
  SystemClock system_clock_;
  CorrectedClock clock_{system_clock_};
  MemoryBudget budget_;
  AckTracker acks_;
  std::unique_ptr<aws::AwsAccess> aws_;
  std::vector<std::unique_ptr<Flow>> flows_;
  std::optional<StateLock> lock_;
  std::unique_ptr<StatusServer> status_;
  std::uint64_t started_at_ = 0;  // loop time
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_timer_t stats_timer_{};
  uv_timer_t heap_timer_{};  // hands free heap back once the budget is idle (core/heap_retention.h)
  HeapTrimPolicy heap_trim_;
  bool stopping_ = false;
  std::size_t flows_draining_ = 0;
  std::size_t undelivered_ = 0;
};

}  // namespace ferry
