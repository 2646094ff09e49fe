// StatusReport: the JSON document the status socket serves to `ferry status` (schema v1): the daemon, and
// per flow its counters, endpoint errors by code, and every file it knows with offsets and figures.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/pipeline/flow.h"

namespace ferry {

struct DaemonFacts {
  std::string version;
  long pid = 0;
  double uptime_seconds = 0;
  // AWS access: the region and where the credentials come from; the access key id masked, never a secret.
  std::string region;
  std::string credentials_provider;
  std::string access_key_masked;
  std::optional<std::int64_t> credentials_expire_in_s;  // none: they do not expire
  std::uint64_t credential_refreshes = 0;
  std::uint64_t credential_refresh_failures = 0;
};

std::string StatusJson(const DaemonFacts& daemon, const std::vector<const Flow*>& flows);

}  // namespace ferry
