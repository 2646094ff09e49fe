// ReloadPlan: comparing canonical texts of the flows and of what every flow is built from.
#include "agent/ops/reload_plan.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace ferry {
namespace {

// The config's sections every flow is built from, as text: the config with what is not a flow's input
// blanked. A key added to the config later counts as a flow's input until it is blanked here.
std::string SharedCanonical(const config::Config& config) {
  config::Config shared;
  shared.spool = config.spool;
  shared.retry = config.retry;
  shared.checkpoint_interval = config.checkpoint_interval;
  // Everything else stays at its default; the aws section is compared on its own, secrets included.
  return config::DescribeConfig(shared);
}

struct Services {
  bool kinesis = false;
  bool firehose = false;
};

Services UsedServices(const config::Config& config) {
  Services out;
  for (const auto& flow : config.flows) (flow.kinesis ? out.kinesis : out.firehose) = true;
  return out;
}

}  // namespace

std::string_view FlowChangeName(FlowChange change) {
  switch (change) {
    case FlowChange::kUnchanged:
      return "unchanged";
    case FlowChange::kRestarted:
      return "restarted";
    case FlowChange::kRemoved:
      return "removed";
    case FlowChange::kAdded:
      return "added";
  }
  return "unchanged";
}

bool ReloadPlan::changes_anything() const {
  if (log_level_changed || memory_limit_changed || aws_changed || shared_changed || metrics_changed ||
      log_format_changed)
    return true;
  for (const auto& flow : flows) {
    if (flow.change != FlowChange::kUnchanged) return true;
  }
  return false;
}

Result<ReloadPlan> PlanReload(const config::Config& running, const config::Config& next) {
  if (running.state_dir != next.state_dir) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}: state_dir cannot change on a reload (running with {}, the file now says "
                             "{}); restart ferry to move it",
                             config::LocatedKey(next, "state_dir"), running.state_dir, next.state_dir));
  }
  ReloadPlan plan;
  plan.log_level_changed = running.log_level != next.log_level;
  plan.memory_limit_changed = running.memory_limit != next.memory_limit;
  plan.metrics_changed = running.metrics != next.metrics;
  plan.log_format_changed = running.log_format != next.log_format;
  plan.shared_changed = SharedCanonical(running) != SharedCanonical(next);
  const Services had = UsedServices(running);
  const Services needs = UsedServices(next);
  plan.aws_changed =
      !(running.aws == next.aws) || (needs.kinesis && !had.kinesis) || (needs.firehose && !had.firehose);

  std::map<std::string, const config::FlowOptions*> before;
  std::map<std::string, const config::FlowOptions*> after;
  for (const auto& flow : running.flows) before.emplace(flow.name, &flow);
  for (const auto& flow : next.flows) after.emplace(flow.name, &flow);
  for (const auto& [name, old] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      plan.flows.push_back({name, FlowChange::kRemoved, {}});
      continue;
    }
    FlowPlan p{name, FlowChange::kUnchanged, {}};
    if (config::DescribeFlow(*old) != config::DescribeFlow(*it->second)) {
      p = {name, FlowChange::kRestarted, "its options changed"};
    } else if (plan.aws_changed) {
      p = {name, FlowChange::kRestarted, "the aws section changed"};
    } else if (plan.shared_changed) {
      p = {name, FlowChange::kRestarted, "spool, retry or checkpoint_interval changed"};
    }
    plan.flows.push_back(std::move(p));
  }
  for (const auto& [name, flow] : after) {
    if (!before.contains(name)) plan.flows.push_back({name, FlowChange::kAdded, {}});
  }
  std::sort(plan.flows.begin(), plan.flows.end(),
            [](const FlowPlan& a, const FlowPlan& b) { return a.name < b.name; });
  return plan;
}

}  // namespace ferry
