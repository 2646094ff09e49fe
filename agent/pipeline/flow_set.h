// FlowSet: the daemon's flows, keyed by name. Each flow is independent: one can be drained, closed and
// replaced by a new one of the same name (a reload with new options, which resumes from the same
// checkpoints and spool) or removed, while the others keep running. Loop thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/pipeline/flow.h"

namespace ferry {

class FlowSet {
 public:
  FlowSet() = default;
  FlowSet(const FlowSet&) = delete;
  FlowSet& operator=(const FlowSet&) = delete;

  // Adds a flow (not started); a flow of the same name must not be in the set.
  void Add(std::unique_ptr<Flow> flow);
  Flow* Find(std::string_view name) const;
  std::size_t size() const { return flows_.size(); }
  // Flows in name order, for status and the log.
  std::vector<const Flow*> List() const;

  void StartAll();
  // Drains every flow (at most timeout each, all at once); on_drained gets the records they gave up.
  void DrainAll(Duration timeout, std::function<void(std::size_t undelivered)> on_drained);
  // Closes every flow (after DrainAll); on_closed runs once all are closed. The set is then empty.
  void CloseAll(std::function<void()> on_closed);

  // Builds a flow; called only once the flow it replaces is gone (its spool folder and checkpoints are
  // free again). Validate what can be validated before asking for a replacement.
  using FlowMaker = std::function<Result<std::unique_ptr<Flow>>()>;
  // Drains the flow called name (at most timeout), closes and destroys it, then builds its replacement
  // with make (none: the flow is only removed) and starts it. The other flows keep running throughout.
  // done gets the records the old flow gave up, or why the replacement could not be built (the flow is
  // then absent). Until then, Find(name) answers the old flow. Without a flow of that name, the new one
  // is built and started at once.
  void Replace(const std::string& name, FlowMaker make, Duration timeout,
               std::function<void(Result<std::size_t> undelivered)> done);

 private:
  void StartReplacement(const std::string& name, FlowMaker make, std::size_t undelivered,
                        std::function<void(Result<std::size_t>)> done);

  std::map<std::string, std::unique_ptr<Flow>, std::less<>> flows_;
  std::vector<std::unique_ptr<Flow>> closing_;  // replaced flows whose handles are still closing
};

}  // namespace ferry
