// Preflight: every check `ferry run` makes of a parsed config before it opens a handle, as one function
// that `ferry check` runs too. The systemd unit runs `ferry check` as ExecStartPre, which protects only if
// check refuses what run would refuse; with one function for both they cannot drift apart.
//
// What it checks, without asking any network service and without creating or changing anything:
// - the AWS HTTP options (aws/http_options.h): aws.ca_file readable and PEM, aws.proxy and the proxy
//   variables valid URLs;
// - the shared config and credentials files (~/.aws/config, AWS_CONFIG_FILE, ...) parse;
// - the endpoints of the services the flows use, and STS's: custom URLs (aws.*_endpoint, AWS_ENDPOINT_URL*)
//   always, the region's standard ones when the region is known from the config, the environment or the
//   profile (a region only the EC2 metadata service knows is left to `run`);
// - state_dir: an existing folder ferry may write in, or one it can create (its nearest existing parent a
//   folder it may write in), its status socket path short enough, and the folders and lock file ferry
//   keeps in it, where they exist, writable;
// - every flow as `run` builds it (pipeline/flow.h PrepareStages: globs, patterns, partition keys with the
//   real host name, framing).
// It passes on the config's own warnings (Config::warnings: the keys of an agent.json ferry treats
// differently). And it warns (never refuses) when the config file holds a secret (aws.secret_access_key,
// aws.session_token, a password in aws.proxy) and every user may read it.
//
// Errors name the key and, where the key was given in the config file, its file:line:column, like the
// parser's own errors; errors about environment variables name the variable.
#pragma once

#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/environment.h"

namespace ferry {

struct PreflightReport {
  std::vector<std::string> errors;    // one line each; any of them stops `run` and fails `check`
  std::vector<std::string> warnings;  // one line each; logged by `run`, printed by `check`
  bool ok() const { return errors.empty(); }
};

PreflightReport Preflight(const config::Config& config, const Environment& env);

}  // namespace ferry
