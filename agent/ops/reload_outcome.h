// ReloadOutcome: what a reload did, as the daemon logs it and answers `ferry reload` (one JSON line on the
// status socket, status_request.h):
//   {"result":"applied"|"refused"|"busy", "config":FILE, "errors":[...],
//    "flows":[{"name":N, "change":"unchanged"|"restarted"|"removed"|"added", "why":..., "undelivered":K,
//              "error":...}, ...],
//    "log_level":"unchanged"|"changed", "memory_limit":..., "aws":"unchanged"|"rebuilt"}
// refused: the new config was invalid (errors: file:line:col texts, one each), or it could not be applied
// (AWS look-ups failed, ferry is starting or stopping); nothing changed. busy: another reload was under way.
// applied with errors: the config is in force, but a flow could not be built again (its error says why; the
// flow is not running).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/ops/reload_plan.h"

namespace ferry {

struct FlowOutcome {
  std::string name;
  FlowChange change = FlowChange::kUnchanged;
  std::string why;
  std::size_t undelivered = 0;  // records a drained flow gave up after shutdown_timeout (still in its files)
  std::string error;            // the flow could not be built again
};

struct ReloadOutcome {
  enum class Result { kApplied, kRefused, kBusy };
  Result result = Result::kRefused;
  std::string config;               // the file read
  std::vector<std::string> errors;  // one line each
  std::vector<FlowOutcome> flows;
  bool log_level_changed = false;
  bool memory_limit_changed = false;
  bool aws_rebuilt = false;

  // Applied, and every flow runs as the new config says.
  bool ok() const { return result == Result::kApplied && errors.empty(); }
};

std::string ReloadOutcomeJson(const ReloadOutcome& outcome);

// Lines for people (the daemon's log and `ferry reload`'s output), from the JSON; kProtocol if json is not
// a reload answer. ok tells whether it was applied without errors.
struct ReloadAnswer {
  bool ok = false;
  std::string text;
};
Result<ReloadAnswer> DescribeReloadAnswer(std::string_view json);

}  // namespace ferry
