// Daemon: `ferry run` on one libuv loop, which runs once from start to end: the state folder's lock and
// the status socket, then the AWS look-ups (region, credentials; asynchronous, so signals and `ferry
// status` are answered meanwhile), then the flows are built and started, all in callbacks on that loop. It
// runs until SIGINT or SIGTERM, then shuts down in order: stop reading, send what was read (for at most
// shutdown_timeout), stop the HTTP client, close every handle, and return. A stop signal before the flows
// have started abandons the look-ups and closes what is open. SIGHUP is answered with a log line (reload
// is not there yet) and changes nothing: it must not end the daemon. Under systemd (NOTIFY_SOCKET) it
// reports through ServiceNotifier: READY=1 once every flow has started, a STATUS= summary every few
// seconds, STOPPING=1 when shutdown begins, and watchdog pings from the loop when WatchdogSec is set.
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
#include "agent/ops/service_notifier.h"
#include "agent/ops/service_status_line.h"
#include "agent/ops/metrics_server.h"
#include "agent/ops/state_lock.h"
#include "agent/ops/status_server.h"
#include "agent/pipeline/flow_builder.h"
#include "agent/pipeline/flow_set.h"

namespace ferry {

class Daemon {
 public:
  Daemon(config::Config config, Environment env, std::shared_ptr<spdlog::logger> log);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs the loop until a stop signal has been handled, or until start-up failed: errors before the flows
  // start (no credentials, a bad endpoint, a spool folder that cannot be opened) come back as a Status
  // once every handle opened so far is closed. A stop signal during start-up returns Ok.
  Status Run();

 private:
  // The state folder, its lock and the status socket: what a second ferry must not get past.
  Status Open();
  void OnResolved(Status resolved);
  Status BuildFlows();
  void StartFlows();
  // Start-up failed: closes what is open; Run() returns failure.
  void Fail(Status failure);
  void OnSighup();
  // Logs spool folders of flows that are no longer configured and still hold records.
  void WarnAboutOrphanSpools() const;
  void BeginShutdown(int signum);
  void CloseAll();
  void LogStats();
  std::string StatusSnapshot() const;
  // The metrics endpoint, when the config has a metrics section (daemon_metrics.cpp).
  Status OpenMetrics();
  std::string MetricsSnapshot() const;

  config::Config config_;
  Environment env_;
  std::shared_ptr<spdlog::logger> log_;
  uv_loop_t loop_{};
  Status loop_ready_;  // uv_loop_init's result (core/event_loop.h); Run() fails with it
  SystemClock system_clock_;
  CorrectedClock clock_{system_clock_};
  MemoryBudget budget_;  // the sum over every flow's budget (each flow has its share of memory_limit)
  AckTracker acks_;
  std::unique_ptr<aws::AwsAccess> aws_;
  FlowSet flows_;
  std::optional<StateLock> lock_;
  std::unique_ptr<StatusServer> status_;
  std::unique_ptr<MetricsServer> metrics_;
  std::uint64_t started_at_ = 0;  // loop time
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_signal_t sighup_{};
  bool started_ = false;  // the flows run
  Status failure_ = Status::Ok();
  uv_timer_t stats_timer_{};
  uv_timer_t heap_timer_{};  // hands free heap back once the budget is idle (core/heap_retention.h)
  HeapTrimPolicy heap_trim_;
  bool stopping_ = false;
  std::size_t undelivered_ = 0;
  // systemd (Type=notify): READY=1 once the flows have started, STATUS= lines, STOPPING=1, watchdog pings.
  std::unique_ptr<ServiceNotifier> notifier_;
  ServiceStatusLine status_line_;
};

}  // namespace ferry
