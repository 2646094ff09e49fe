// Daemon: reloading the config (the contract is in daemon.h). Steps, each on the loop:
//   RequestReload -> BeginReload: read and validate the file, plan (ops/reload_plan.h); refused here when
//   anything is wrong, nothing changed -> [aws changed: new AwsAccess resolves; OnReloadResolved] ->
//   ApplyReload: log level, budgets, and FlowSet::Replace for every flow that changes -> OnFlowReplaced
//   once per flow -> FinishReload: the old AWS access is retired, the answer sent.
#include <algorithm>
#include <utility>

#include "agent/core/heap_retention.h"
#include "agent/ops/daemon.h"
#include "agent/ops/preflight.h"
#include "agent/ops/reload_plan.h"

namespace ferry {

struct Daemon::Reload {
  std::function<void(std::string)> reply;  // null for SIGHUP
  std::shared_ptr<const config::Config> next;
  ReloadPlan plan;
  // The new access while it resolves; once applied, the old one, until no flow uses it. aws_config is the
  // config it refers to.
  std::unique_ptr<aws::AwsAccess> aws;
  std::shared_ptr<const config::Config> aws_config;
  bool applying = false;
  std::size_t replacing = 0;  // flows whose Replace has not answered yet
  ReloadOutcome outcome;
};

namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from < text.size()) {
    std::size_t end = std::min(text.find('\n', from), text.size());
    if (end > from) out.push_back(text.substr(from, end - from));
    from = end + 1;
  }
  return out;
}

}  // namespace

bool Daemon::reload_resolving() const {
  return reload_ && !reload_->applying;
}

void Daemon::RequestReload(std::function<void(std::string)> reply) {
  auto refuse = [&](std::string why) {
    log_->warn("reload refused: {}", why);
    if (!reply) return;
    ReloadOutcome outcome;
    outcome.config = origin_.path;
    outcome.errors.push_back(std::move(why));
    reply(ReloadOutcomeJson(outcome));
  };
  if (stopping_ || stop_after_reload_ != 0) return refuse("ferry is stopping");
  if (!started_) return refuse("ferry is still starting; ask again once its flows run");
  if (reload_) {
    if (!reply) {
      log_->info("a reload is under way; the config is read once more when it ends");
      sighup_pending_ = true;
      return;
    }
    ReloadOutcome busy;
    busy.result = ReloadOutcome::Result::kBusy;
    busy.config = origin_.path;
    reply(ReloadOutcomeJson(busy));
    return;
  }
  BeginReload(std::move(reply));
}

void Daemon::BeginReload(std::function<void(std::string)> reply) {
  // reload begins
  notifier_->Reloading();
  reload_ = std::make_shared<Reload>();
  reload_->reply = std::move(reply);
  reload_->outcome.config = origin_.path;
  log_->info("reloading the config from {}", origin_.path);
  auto refused = [this](std::vector<std::string> errors) {
    ReloadOutcome outcome;
    outcome.config = origin_.path;
    outcome.errors = std::move(errors);
    FinishReload(std::move(outcome));
  };

  auto loaded = config::LoadConfig(origin_);
  if (!loaded) return refused(Lines(loaded.error().message()));
  const PreflightReport report = Preflight(*loaded, env_);
  for (const auto& warning : report.warnings) log_->warn("{}", warning);
  if (!report.ok()) return refused(report.errors);
  auto plan = PlanReload(*config_, *loaded);
  if (!plan) return refused({plan.error().message()});
  reload_->next = std::make_shared<const config::Config>(std::move(*loaded));
  reload_->plan = std::move(*plan);
  if (!reload_->plan.aws_changed) return ApplyReload();

  // New access first: if its look-ups fail, nothing has changed yet.
  const config::Config& next = *reload_->next;
  bool kinesis = false, firehose = false;
  for (const auto& flow : next.flows) (flow.kinesis ? kinesis : firehose) = true;
  reload_->aws_config = reload_->next;
  reload_->aws = std::make_unique<aws::AwsAccess>(&loop_, next.aws, env_, clock_, *log_);
  reload_->aws->Resolve(kinesis, firehose,
                        [this](Status resolved) { OnReloadResolved(std::move(resolved)); });
}

void Daemon::OnReloadResolved(Status resolved) {
  if (!resolved) {
    RetireAws(std::move(reload_->aws), std::move(reload_->aws_config));
    ReloadOutcome outcome;
    outcome.config = origin_.path;
    outcome.errors.push_back(fmt::format("the new aws section: {}", resolved.error().message()));
    return FinishReload(std::move(outcome));
  }
  log_->info("reload: {}", reload_->aws->Describe());
  ApplyReload();
}

void Daemon::AbandonReload() {
  if (!reload_resolving()) return;
  RetireAws(std::move(reload_->aws), std::move(reload_->aws_config));
  ReloadOutcome outcome;
  outcome.config = origin_.path;
  outcome.errors.push_back("ferry is stopping");
  FinishReload(std::move(outcome));
}

void Daemon::ApplyReload() {
  Reload& r = *reload_;
  r.applying = true;
  const config::Config& next = *r.next;
  const ReloadPlan& plan = r.plan;
  ReloadOutcome& out = r.outcome;
  out.result = ReloadOutcome::Result::kApplied;
  out.log_level_changed = plan.log_level_changed;
  out.memory_limit_changed = plan.memory_limit_changed;
  out.aws_rebuilt = plan.aws_changed;
  if (plan.log_level_changed) {
    log_->set_level(spdlog::level::from_str(next.log_level));
    log_->info("reload: log_level is now {}", next.log_level);
  }
  if (plan.log_format_changed) {
    // The sink is shared with threads that may be logging (plugin pools): swapping it under them is not
    // safe, and a format change is rare enough to wait for a restart.
    log_->warn("reload: log_format {} applies when ferry restarts; the log stays {} until then",
               next.log_format, config_->log_format);
  }
  if (plan.metrics_changed) ReopenMetrics(next);
  if (plan.aws_changed) {
    // Flows built from here on send through the new access; the old one closes once its flows are gone.
    std::swap(aws_, r.aws);
    std::swap(aws_config_, r.aws_config);
  }
  const std::size_t share = FlowBudgetBytes(next.memory_limit, next.flows.size());
  budget_.SetLimit(next.memory_limit);
  if (plan.memory_limit_changed) RetainHeap(next.memory_limit);
  std::vector<FlowPlan> changing;
  for (FlowPlan p : plan.flows) {
    Flow* running = flows_.Find(p.name);
    if (p.change == FlowChange::kUnchanged && running == nullptr) {
      // An earlier reload could not build it again: this one tries once more.
      p = {p.name, FlowChange::kAdded, "it was not running"};
    }
    if (p.change == FlowChange::kUnchanged) {
      // Shrunk at once, grown once the flows that go have given their memory back (FinishReload).
      if (share < running->budget().limit()) running->budget().SetLimit(share);
      out.flows.push_back({p.name, p.change, p.why, 0, {}});
    } else {
      changing.push_back(std::move(p));
    }
  }
  config_ = r.next;
  // One more than the flows, taken back after the loop: a Replace may answer before it returns.
  r.replacing = changing.size() + 1;
  for (const FlowPlan& p : changing) {
    log_->info("reload: flow '{}' {}{}", p.name, FlowChangeName(p.change),
               p.why.empty() ? std::string() : fmt::format(" ({})", p.why));
    FlowSet::FlowMaker make;
    if (p.change != FlowChange::kRemoved) {
      auto it = std::find_if(next.flows.begin(), next.flows.end(),
                             [&](const config::FlowOptions& f) { return f.name == p.name; });
      make = [this, config = r.next, options = &*it, share]() -> Result<std::unique_ptr<Flow>> {
        if (stop_after_reload_ != 0)
          return Error(ErrorCode::kInternal, "not started again: ferry is stopping");
        return MakeFlow(*config, *options, share);
      };
    }
    const std::size_t index = out.flows.size();
    out.flows.push_back({p.name, p.change, p.why, 0, {}});
    std::weak_ptr<Reload> weak = reload_;
    flows_.Replace(p.name, std::move(make), next.shutdown_timeout,
                   [this, weak, index](Result<std::size_t> undelivered) {
                     auto reload = weak.lock();
                     if (!reload) return;
                     FlowOutcome& f = reload->outcome.flows[index];
                     if (undelivered) {
                       f.undelivered = *undelivered;
                       if (f.change == FlowChange::kRemoved)
                         log_->info("reload: flow '{}' stopped; its checkpoints and spool stay in {}", f.name,
                                    config_->state_dir);
                     } else {
                       f.error = undelivered.error().message();
                       reload->outcome.errors.push_back(fmt::format("flow '{}': {}", f.name, f.error));
                       log_->error("reload: flow '{}' is not running: {}", f.name, f.error);
                     }
                     OnFlowReplaced();
                   });
  }
  OnFlowReplaced();
}

void Daemon::OnFlowReplaced() {
  if (--reload_->replacing > 0) return;
  FinishReload(std::move(reload_->outcome));
}

Result<std::unique_ptr<Flow>> Daemon::MakeFlow(const config::Config& config,
                                               const config::FlowOptions& options, std::size_t share) {
  FlowContext ctx{&loop_, *log_, aws_->http(), acks_, clock_};
  BuildContext build{&loop_, config, env_.hostname(), *log_, clock_, &budget_, &env_, aws_->region()};
  auto parts = BuildFileFlow(options, build, share);
  if (!parts) return parts.error();
  const aws::ServiceEndpoint& endpoint =
      parts->output.service == "kinesis" ? aws_->kinesis() : aws_->firehose();
  return std::make_unique<Flow>(ctx, std::move(*parts), endpoint, aws_->credentials());
}

void Daemon::RetireAws(std::unique_ptr<aws::AwsAccess> access, std::shared_ptr<const config::Config> config) {
  if (!access) return;
  aws::AwsAccess* closing = access.get();
  retiring_aws_.push_back(std::move(access));
  closing->Close([this, closing, config = std::move(config)]() mutable {
    std::erase_if(retiring_aws_, [closing](const auto& a) { return a.get() == closing; });
    config.reset();  // after the access that refers to it
  });
}

void Daemon::FinishReload(ReloadOutcome outcome) {
  std::shared_ptr<Reload> r = std::move(reload_);
  if (r->applying) {
    // The flows that went have given their memory back: the others grow to their new share.
    const std::size_t share = FlowBudgetBytes(config_->memory_limit, config_->flows.size());
    for (const Flow* listed : flows_.List()) {
      if (Flow* flow = flows_.Find(listed->name())) flow->budget().SetLimit(share);
    }
    // Every flow that used the old access was drained and closed: nothing is in flight on it.
    RetireAws(std::move(r->aws), std::move(r->aws_config));
  }
  std::size_t counts[4] = {};
  for (const auto& f : outcome.flows) ++counts[static_cast<int>(f.change)];
  if (outcome.result == ReloadOutcome::Result::kApplied) {
    log_->info("reload applied from {}: {} flow(s) unchanged, {} restarted, {} removed, {} added{}",
               outcome.config, counts[0], counts[1], counts[2], counts[3],
               outcome.errors.empty() ? "" : fmt::format("; {} error(s)", outcome.errors.size()));
  } else {
    for (const auto& e : outcome.errors) log_->error("{}", e);
    log_->error("reload refused: ferry keeps running with the config it had ({} error(s))",
                outcome.errors.size());
  }
  // reload ends
  notifier_->Ready();
  if (r->reply) r->reply(ReloadOutcomeJson(outcome));
  if (stop_after_reload_ != 0) {
    BeginShutdown(std::exchange(stop_after_reload_, 0));
    return;
  }
  if (sighup_pending_ && !stopping_) {
    sighup_pending_ = false;
    RequestReload(nullptr);
  }
}

}  // namespace ferry
