// ReloadPlan: what a reload changes, decided from the running config and the new one alone (no I/O), so
// the daemon (ops/daemon.h) applies it and the tests check it without a loop.
//
// Flows are known by name. A flow is unchanged when its canonical form (config::DescribeFlow: every
// option, defaults filled in, its plugins and their options) is the same and nothing it is built from
// changed: the spool and retry sections and checkpoint_interval (every flow is built from them), the aws
// section (every flow sends through the AWS access built from it; compared in full, secrets included) and
// the AWS services the flows use (a new Kinesis or Firehose flow where the running config had none needs
// that service's endpoint resolved, so it counts as an aws change). A flow's share of memory_limit is not
// part of it: the daemon re-shares the budget in place. log_level, memory_limit and shutdown_timeout
// apply to the daemon, not to a flow. state_dir cannot change on a reload: PlanReload refuses it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/result.h"

namespace ferry {

enum class FlowChange { kUnchanged, kRestarted, kRemoved, kAdded };

// "unchanged", "restarted", "removed", "added": how the reload's answer spells them.
std::string_view FlowChangeName(FlowChange change);

struct FlowPlan {
  std::string name;
  FlowChange change = FlowChange::kUnchanged;
  std::string why;  // for a restart: what changed ("its options", "the aws section", ...)
};

struct ReloadPlan {
  std::vector<FlowPlan> flows;  // every flow of either config, in name order
  bool log_level_changed = false;
  bool memory_limit_changed = false;
  bool aws_changed = false;         // new AWS access is built and resolved; every flow restarts on it
  bool shared_changed = false;      // spool, retry or checkpoint_interval: every flow restarts
  bool metrics_changed = false;     // the endpoint closes and opens again where the new config says
  bool log_format_changed = false;  // not applied: the log keeps its format until ferry restarts

  // Whether applying it changes anything at all.
  bool changes_anything() const;
};

// kInvalidArgument naming both values (and the file:line of the new one) when state_dir differs.
Result<ReloadPlan> PlanReload(const config::Config& running, const config::Config& next);

}  // namespace ferry
