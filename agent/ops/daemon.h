// Daemon: `ferry run` on one libuv loop, which runs once from start to end: the state folder's lock and
// the status socket, then the AWS look-ups (region, credentials; asynchronous, so signals and `ferry
// status` are answered meanwhile), then the flows are built and started, all in callbacks on that loop. It
// runs until SIGINT or SIGTERM, then shuts down in order: stop reading, send what was read (for at most
// shutdown_timeout), stop the HTTP client, close every handle, and return. A stop signal before the flows
// have started abandons the look-ups and closes what is open. Under systemd (NOTIFY_SOCKET) it reports
// through ServiceNotifier: READY=1 once every flow has started, a STATUS= summary every few seconds,
// RELOADING=1 and READY=1 around a reload, STOPPING=1 when shutdown begins, and watchdog pings from the
// loop when WatchdogSec is set. The metrics endpoint (metrics: listen) opens after the status socket.
//
// Reload (daemon_reload.cpp): SIGHUP, or "reload" on the status socket (`ferry reload`), re-reads the
// config from where `ferry run` read it (ConfigOrigin: the file, and --state-dir if given), validates it as
// `ferry run` does (parser, then ops/preflight.h) and applies what differs (ops/reload_plan.h): unchanged
// flows keep running untouched; changed flows are drained (for at most shutdown_timeout) and built again
// from the same checkpoints and spool; removed flows are drained and closed (their checkpoints and spool
// stay); new flows start. log_level applies at once; memory_limit is re-shared in place among the flows
// (MemoryBudget::SetLimit; no restart). A changed aws section builds and resolves new AWS access first (a
// failure refuses the reload), then every flow restarts on it, and the old access is closed once no flow
// uses it. An invalid config, or a changed state_dir, is refused: every error logged with its file:line,
// nothing changes. One reload at a time: a status-socket request meanwhile is answered busy, a SIGHUP
// meanwhile is queued (several make one more reload, once this one ends). Reloads are refused while ferry
// starts or stops. A stop signal during the AWS look-ups of a reload abandons the reload; during the flows'
// restart, it waits for the restart (bounded by shutdown_timeout) and then stops in order.
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
#include "agent/config/config_origin.h"
#include "agent/core/clock.h"
#include "agent/core/corrected_clock.h"
#include "agent/core/environment.h"
#include "agent/core/heap_retention.h"
#include "agent/core/memory_budget.h"
#include "agent/net/http_client.h"
#include "agent/ops/service_notifier.h"
#include "agent/ops/service_status_line.h"
#include "agent/ops/metrics_server.h"
#include "agent/ops/reload_outcome.h"
#include "agent/ops/state_lock.h"
#include "agent/ops/status_server.h"
#include "agent/pipeline/flow_builder.h"
#include "agent/pipeline/flow_set.h"

namespace ferry {

class Daemon {
 public:
  // origin: where config was read from, so a reload reads it again the same way.
  Daemon(config::Config config, config::ConfigOrigin origin, Environment env,
         std::shared_ptr<spdlog::logger> log);
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
  // Reload (daemon_reload.cpp). reply (null for SIGHUP) gets the outcome's JSON.
  struct Reload;
  void RequestReload(std::function<void(std::string)> reply);
  void BeginReload(std::function<void(std::string)> reply);
  void OnReloadResolved(Status resolved);
  // Whether the reload under way is still at its AWS look-ups (nothing changed yet).
  bool reload_resolving() const;
  // A stop during a reload's AWS look-ups: the reload is refused and its new access closed.
  void AbandonReload();
  void ApplyReload();
  void OnFlowReplaced();
  void FinishReload(ReloadOutcome outcome);
  Result<std::unique_ptr<Flow>> MakeFlow(const config::Config& config, const config::FlowOptions& options,
                                         std::size_t share);
  // Closes AWS access that no flow uses any more, and forgets it and its config once closed.
  void RetireAws(std::unique_ptr<aws::AwsAccess> access, std::shared_ptr<const config::Config> config);
  // Logs spool folders of flows that are no longer configured and still hold records.
  void WarnAboutOrphanSpools() const;
  void BeginShutdown(int signum);
  void CloseAll();
  void LogStats();
  std::string StatusSnapshot() const;
  // The metrics endpoint, when the config has a metrics section (daemon_metrics.cpp).
  Status OpenMetrics();
  // A reload changed the metrics section: the old endpoint closes, the new one (if any) opens.
  void ReopenMetrics(const config::Config& next);
  Status StartMetrics(ListenAddress address);
  std::string MetricsSnapshot() const;

  std::shared_ptr<const config::Config> config_;  // in force; replaced by a reload
  config::ConfigOrigin origin_;
  Environment env_;
  std::shared_ptr<spdlog::logger> log_;
  uv_loop_t loop_{};
  Status loop_ready_;  // uv_loop_init's result (core/event_loop.h); Run() fails with it
  SystemClock system_clock_;
  CorrectedClock clock_{system_clock_};
  MemoryBudget budget_;  // the sum over every flow's budget (each flow has its share of memory_limit)
  AckTracker acks_;
  std::unique_ptr<aws::AwsAccess> aws_;
  std::shared_ptr<const config::Config> aws_config_;  // the config aws_ was built from (it refers to it)
  std::vector<std::unique_ptr<aws::AwsAccess>> retiring_aws_;  // closing; destroyed once closed
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
  std::shared_ptr<Reload> reload_;  // the reload under way (shared: Reload is daemon_reload.cpp's)
  bool sighup_pending_ = false;     // a SIGHUP came during a reload: one more once it ends
  int stop_after_reload_ = 0;       // a stop signal came while flows restarted: stop once they have
};

}  // namespace ferry
