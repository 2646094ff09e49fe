// StatusReport: the JSON document the status socket serves to `ferry status` (schema v1): the daemon, and
// per flow its counters, endpoint errors by code, and every file it knows with offsets and figures.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/pipeline/flow.h"

namespace ferry {

struct DaemonFacts {
  std::string version;
  long pid = 0;
  double uptime_seconds = 0;
};

std::string StatusJson(const DaemonFacts& daemon, const std::vector<std::unique_ptr<Flow>>& flows);

}  // namespace ferry
