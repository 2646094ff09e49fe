// Daemon: wiring of shared services, signal handling and the ordered shutdown.
#include "agent/ops/daemon.h"

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <optional>
#include <set>

#include "agent/aws/aws_access.h"
#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/event_loop.h"
#include "agent/core/masking.h"
#include "agent/core/uv_handle.h"
#include "agent/ops/status_report.h"
#include "ferry/version.h"

#include <unistd.h>

namespace ferry {
namespace {

constexpr std::uint64_t kStatsIntervalMs = 60'000;
constexpr std::uint64_t kHeapTrimIntervalMs = 15'000;
constexpr Duration kServiceStatusInterval{5'000};  // STATUS= for `systemctl status`

}  // namespace

Daemon::Daemon(config::Config config, config::ConfigOrigin origin, Environment env,
               std::shared_ptr<spdlog::logger> log)
    : config_(std::make_shared<const config::Config>(std::move(config))),
      origin_(std::move(origin)),
      env_(std::move(env)),
      log_(std::move(log)),
      budget_(config_->memory_limit) {
  loop_ready_ = InitLoop(&loop_);
}

Daemon::~Daemon() {
  status_.reset();
  metrics_.reset();
  aws_.reset();
  retiring_aws_.clear();
  if (!loop_ready_) return;
  if (std::string open = CloseLoop(&loop_); !open.empty())
    log_->error("bug: the event loop ends with {}", open);
}

Status Daemon::Open() {
  std::error_code ec;
  std::filesystem::create_directories(config_->state_dir, ec);
  if (ec) {
    return Error(ErrorCode::kIo,
                 fmt::format("state_dir {}: cannot create: {}", config_->state_dir, ec.message()));
  }
  // First, so a second ferry on the same state_dir stops here, before it touches checkpoints.
  auto lock = StateLock::Acquire(config_->state_dir);
  if (!lock) return lock.error();
  lock_.emplace(std::move(*lock));
  status_ = std::make_unique<StatusServer>(
      &loop_, *log_, (std::filesystem::path(config_->state_dir) / kStatusSocketName).string(),
      [this] { return StatusSnapshot(); });
  status_->set_reload_handler(
      [this](std::function<void(std::string)> reply) { RequestReload(std::move(reply)); });
  if (Status started = status_->Start(); !started) return started;
  return OpenMetrics();
}

void Daemon::OnResolved(Status resolved) {
  if (!resolved) return Fail(std::move(resolved));
  log_->info("{}", aws_->Describe());
  if (Status built = BuildFlows(); !built) return Fail(std::move(built));
  StartFlows();
}

Status Daemon::BuildFlows() {
  // Every flow is prepared (its spool opened) before any flow exists, so a bad flow stops ferry at once.
  FlowContext ctx{&loop_, *log_, aws_->http(), acks_, clock_};
  BuildContext build{&loop_, *config_, env_.hostname(), *log_, clock_, &budget_, &env_, aws_->region()};
  const std::size_t share = FlowBudgetBytes(config_->memory_limit, config_->flows.size());
  std::vector<Flow::Parts> parts;
  for (const auto& options : config_->flows) {
    auto prepared = BuildFileFlow(options, build, share);
    if (!prepared) return prepared.error();
    parts.push_back(std::move(*prepared));
  }
  WarnAboutOrphanSpools();
  for (auto& p : parts) {
    const aws::ServiceEndpoint& endpoint = p.output.service == "kinesis" ? aws_->kinesis() : aws_->firehose();
    flows_.Add(std::make_unique<Flow>(ctx, std::move(p), endpoint, aws_->credentials()));
  }
  return Status::Ok();
}

void Daemon::WarnAboutOrphanSpools() const {
  // A flow renamed or removed from the config leaves its spool behind, and no flow will ever send it.
  std::set<std::string> known;
  for (const auto& flow : config_->flows) known.insert(EscapeFlowName(flow.name));
  std::error_code ec;
  const auto folder = std::filesystem::path(config_->state_dir) / "spool";
  for (auto it = std::filesystem::directory_iterator(folder, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (!it->is_directory() || known.contains(it->path().filename().string())) continue;
    std::uint64_t bytes = 0;
    std::error_code size_ec;
    for (const auto& segment : std::filesystem::directory_iterator(it->path(), size_ec)) {
      if (segment.path().extension() == ".seg") bytes += segment.file_size(size_ec);
    }
    if (bytes > 0) {
      log_->warn(
          "{} holds {} bytes of undelivered records of a flow that is not in the config; they are sent "
          "only if a flow of that name comes back",
          it->path().string(), bytes);
    }
  }
}

Status Daemon::Run() {
  if (!loop_ready_) return loop_ready_;
  // Signals first: from here on a stop is orderly, and SIGHUP no longer ends the process.
  for (uv_signal_t* sig : {&sigint_, &sigterm_, &sighup_}) {
    uv_signal_init(&loop_, sig);
    sig->data = this;
  }
  auto on_stop = [](uv_signal_t* h, int signum) { static_cast<Daemon*>(h->data)->BeginShutdown(signum); };
  uv_signal_start(&sigint_, on_stop, SIGINT);
  uv_signal_start(&sigterm_, on_stop, SIGTERM);
  uv_signal_start(
      &sighup_,
      [](uv_signal_t* h, int) {
        auto* self = static_cast<Daemon*>(h->data);
        self->log_->info("signal {} (SIGHUP): reloading the config", SIGHUP);
        self->RequestReload(nullptr);
      },
      SIGHUP);
  uv_timer_init(&loop_, &stats_timer_);
  stats_timer_.data = this;
  uv_timer_init(&loop_, &heap_timer_);
  heap_timer_.data = this;
  started_at_ = uv_now(&loop_);
  notifier_ = std::make_unique<ServiceNotifier>(
      &loop_, *log_, NotifyTargetFromEnvironment(env_, static_cast<long>(::getpid())));
  notifier_->StartWatchdog();

  if (Status opened = Open(); !opened) {
    Fail(std::move(opened));
  } else {
    // After the lock: the look-ups may ask metadata services and STS, which a second ferry need not do.
    bool kinesis = false, firehose = false;
    for (const auto& flow : config_->flows) (flow.kinesis ? kinesis : firehose) = true;
    aws_config_ = config_;
    aws_ = std::make_unique<aws::AwsAccess>(&loop_, aws_config_->aws, env_, clock_, *log_);
    aws_->Resolve(kinesis, firehose, [this](Status resolved) { OnResolved(std::move(resolved)); });
  }
  uv_run(&loop_, UV_RUN_DEFAULT);

  if (!failure_) return failure_;
  if (started_) {
    if (undelivered_ > 0) {
      log_->error("{} records were not delivered within shutdown_timeout ({})", undelivered_,
                  FormatDuration(config_->shutdown_timeout));
    }
  }
  log_->info("ferry stopped");
  return Status::Ok();
}

void Daemon::StartFlows() {
  uv_timer_start(
      &stats_timer_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->LogStats(); }, kStatsIntervalMs,
      kStatsIntervalMs);
  uv_timer_start(
      &heap_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Daemon*>(t->data);
        if (self->heap_trim_.Due(self->budget_)) ReturnFreeHeap();
      },
      kHeapTrimIntervalMs, kHeapTrimIntervalMs);
  started_ = true;
  flows_.StartAll();
  // After the flows took their start positions (start_at: end): a line written once this is logged is read.
  log_->info("ferry started: {} flow(s), state in {}", flows_.size(), config_->state_dir);
  notifier_->Ready();
  notifier_->StartStatus(kServiceStatusInterval, [this] {
    return status_line_.Next(SumServiceFigures(flows_.List()), uv_now(&loop_));
  });
}

void Daemon::Fail(Status failure) {
  failure_ = std::move(failure);
  stopping_ = true;
  CloseAll();
}

void Daemon::BeginShutdown(int signum) {
  if (stopping_) {
    log_->info("signal {} again; still stopping", signum);
    return;
  }
  if (reload_ && !reload_resolving()) {
    // Flows are being drained and built again: they finish first (bounded by shutdown_timeout), then the
    // whole set drains in order; draining a flow twice at once would not be.
    if (stop_after_reload_ == 0)
      log_->info("signal {}: stopping once the reload under way has restarted its flows", signum);
    stop_after_reload_ = signum;
    return;
  }
  stopping_ = true;
  notifier_->Stopping();
  sighup_pending_ = false;
  AbandonReload();
  if (!started_) {
    log_->info("signal {}: stopping before the flows started", signum);
    CloseAll();
    return;
  }
  log_->info("signal {}: stopping; sending what was read (for at most {})", signum,
             FormatDuration(config_->shutdown_timeout));
  uv_timer_stop(&stats_timer_);
  uv_timer_stop(&heap_timer_);
  flows_.DrainAll(config_->shutdown_timeout, [this](std::size_t undelivered) {
    undelivered_ += undelivered;
    LogStats();  // the final figures, while the flows still exist
    CloseAll();
  });
}

void Daemon::CloseAll() {
  auto rest = [this] {
    flows_.CloseAll([] {});
    // Access that a reload replaced and that is still closing finishes on its own.
    for (uv_signal_t* sig : {&sigint_, &sigterm_, &sighup_}) CloseHandle(sig);
    CloseHandle(&stats_timer_);
    CloseHandle(&heap_timer_);
    if (status_) status_->Close([] {});
    if (notifier_) notifier_->Close({});
    if (metrics_) metrics_->Close([] {});
  };
  // The HTTP client goes first: aborting its transfers settles every request callback before the
  // senders' handles close.
  if (aws_) {
    aws_->Close(rest);
  } else {
    rest();
  }
}

std::string Daemon::StatusSnapshot() const {
  DaemonFacts facts;
  facts.version = kVersion;
  facts.pid = static_cast<long>(::getpid());
  facts.uptime_seconds = static_cast<double>(uv_now(&loop_) - started_at_) / 1000.0;
  if (aws_ && aws_->has_credentials()) {
    auto& creds = aws_->credentials();
    facts.region = aws_->region();
    facts.credentials_provider = creds.provider_name();
    facts.access_key_masked = MaskAllButLast(creds.current().access_key_id);
    if (auto expiration = creds.expiration())
      facts.credentials_expire_in_s = *expiration - clock_.UnixSeconds();
    facts.credential_refreshes = creds.counters().refreshes;
    facts.credential_refresh_failures = creds.counters().refresh_failures;
  }
  return StatusJson(facts, flows_.List());
}

void Daemon::LogStats() {
  for (const Flow* flow : flows_.List()) log_->info("{}", flow->Summary());
}

}  // namespace ferry
