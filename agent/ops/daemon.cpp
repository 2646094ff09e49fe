// Daemon: wiring of shared services, signal handling and the ordered shutdown.
#include "agent/ops/daemon.h"

#include <cerrno>
#include <filesystem>
#include <optional>
#include <set>

#include "agent/aws/aws_access.h"
#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/event_loop.h"
#include "agent/core/masking.h"
#include "agent/ops/status_report.h"
#include "ferry/version.h"

#include <unistd.h>

namespace ferry {
namespace {

constexpr std::uint64_t kStatsIntervalMs = 60'000;
constexpr std::uint64_t kHeapTrimIntervalMs = 15'000;

}  // namespace

Daemon::Daemon(config::Config config, Environment env, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)), env_(std::move(env)), log_(std::move(log)), budget_(config_.memory_limit) {
  loop_ready_ = InitLoop(&loop_);
}

Daemon::~Daemon() {
  flows_.clear();
  status_.reset();
  aws_.reset();
  if (!loop_ready_) return;
  if (std::string open = CloseLoop(&loop_); !open.empty())
    log_->error("bug: the event loop ends with {}", open);
}

Status Daemon::Build() {
  std::error_code ec;
  std::filesystem::create_directories(config_.state_dir, ec);
  if (ec) {
    return Error(ErrorCode::kIo,
                 fmt::format("state_dir {}: cannot create: {}", config_.state_dir, ec.message()));
  }
  // First, so a second ferry on the same state_dir stops here, before it touches checkpoints.
  auto lock = StateLock::Acquire(config_.state_dir);
  if (!lock) return lock.error();
  lock_.emplace(std::move(*lock));
  status_ = std::make_unique<StatusServer>(
      &loop_, *log_, (std::filesystem::path(config_.state_dir) / kStatusSocketName).string(),
      [this] { return StatusSnapshot(); });
  Status listening = status_->Start();
  if (!listening) return listening;

  // After the lock: the look-ups may ask metadata services and STS, which a second ferry need not do.
  bool kinesis = false, firehose = false;
  for (const auto& flow : config_.flows) (flow.kinesis ? kinesis : firehose) = true;
  aws_ = std::make_unique<aws::AwsAccess>(&loop_, config_.aws, env_, clock_, *log_);
  Status reached = aws_->Resolve(kinesis, firehose);
  if (!reached) return reached;

  log_->info("{}", aws_->Describe());

  FlowContext ctx{&loop_, *log_, aws_->http(), budget_, acks_, clock_};
  std::vector<Flow::Parts> parts;
  for (const auto& options : config_.flows) {
    auto prepared = Flow::Prepare(options, config_, env_.hostname(), ctx);
    if (!prepared) return prepared.error();
    parts.push_back(std::move(*prepared));
  }
  WarnAboutOrphanSpools();
  for (std::size_t i = 0; i < config_.flows.size(); ++i) {
    flows_.push_back(std::make_unique<Flow>(ctx, config_.flows[i], std::move(parts[i]),
                                            config_.flows[i].kinesis ? aws_->kinesis() : aws_->firehose(),
                                            aws_->credentials()));
  }
  return Status::Ok();
}

void Daemon::WarnAboutOrphanSpools() const {
  // A flow renamed or removed from the config leaves its spool behind, and no flow will ever send it.
  std::set<std::string> known;
  for (const auto& flow : config_.flows) known.insert(EscapeFlowName(flow.name));
  std::error_code ec;
  const auto folder = std::filesystem::path(config_.state_dir) / "spool";
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
  Status built = Build();
  if (!built) {
    // Lets the handles opened so far close (the listener, the HTTP clients of the AWS look-ups).
    if (status_) status_->Close([] {});
    if (aws_) aws_->Close([] {});
    uv_run(&loop_, UV_RUN_DEFAULT);
    return built;
  }

  for (uv_signal_t* sig : {&sigint_, &sigterm_}) {
    uv_signal_init(&loop_, sig);
    sig->data = this;
  }
  auto on_signal = [](uv_signal_t* h, int signum) { static_cast<Daemon*>(h->data)->BeginShutdown(signum); };
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_timer_init(&loop_, &stats_timer_);
  stats_timer_.data = this;
  uv_timer_start(
      &stats_timer_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->LogStats(); }, kStatsIntervalMs,
      kStatsIntervalMs);

  uv_timer_init(&loop_, &heap_timer_);
  heap_timer_.data = this;
  uv_timer_start(
      &heap_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Daemon*>(t->data);
        if (self->heap_trim_.Due(self->budget_)) ReturnFreeHeap();
      },
      kHeapTrimIntervalMs, kHeapTrimIntervalMs);

  started_at_ = uv_now(&loop_);
  log_->info("ferry started: {} flow(s), state in {}", flows_.size(), config_.state_dir);
  for (auto& flow : flows_) flow->Start();
  uv_run(&loop_, UV_RUN_DEFAULT);
  LogStats();
  if (undelivered_ > 0) {
    log_->error("{} records were not delivered within shutdown_timeout ({})", undelivered_,
                FormatDuration(config_.shutdown_timeout));
  }
  log_->info("ferry stopped");
  return Status::Ok();
}

void Daemon::BeginShutdown(int signum) {
  if (stopping_) {
    log_->info("signal {} again; still stopping", signum);
    return;
  }
  stopping_ = true;
  log_->info("signal {}: stopping; sending what was read (for at most {})", signum,
             FormatDuration(config_.shutdown_timeout));
  uv_timer_stop(&stats_timer_);
  uv_timer_stop(&heap_timer_);
  flows_draining_ = flows_.size();
  for (auto& flow : flows_) {
    Flow* f = flow.get();
    f->Drain(config_.shutdown_timeout,
             [this, f](std::size_t undelivered) { OnFlowDrained(*f, undelivered); });
  }
}

void Daemon::OnFlowDrained(const Flow& flow, std::size_t undelivered) {
  undelivered_ += undelivered;
  log_->debug("flow {} drained", flow.name());
  if (--flows_draining_ == 0) CloseAll();
}

void Daemon::CloseAll() {
  // The HTTP client goes first: aborting its transfers settles every request callback before the
  // senders' handles close.
  aws_->Close([this] {
    for (auto& flow : flows_) flow->Close([] {});
    for (uv_signal_t* sig : {&sigint_, &sigterm_}) uv_close(reinterpret_cast<uv_handle_t*>(sig), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&stats_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&heap_timer_), nullptr);
    status_->Close([] {});
  });
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
  return StatusJson(facts, flows_);
}

void Daemon::LogStats() {
  for (const auto& flow : flows_) log_->info("{}", flow->Summary());
}

}  // namespace ferry
