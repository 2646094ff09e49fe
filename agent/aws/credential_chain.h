// Credential chain: the providers in the order the AWS SDKs try them (config keys, environment, web identity,
// the profile, the ECS container endpoint, EC2 instance metadata), and the search for the first that has
// credentials. When none has, the error names every provider and why it had none.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/aws/aws_options.h"
#include "agent/aws/credential_provider.h"
#include "agent/aws/endpoint.h"
#include "agent/aws/profile_provider.h"

namespace ferry::aws {

struct ChainLink {
  std::string name;                              // as the error names it: "environment", "profile dev", ...
  std::unique_ptr<CredentialProvider> provider;  // null: not set up on this host (see skipped)
  std::string skipped;                           // why not, or what is wrong with its settings
  bool broken = false;  // set up, but wrongly (a named profile that is missing, a bad URI): worth a warning
};

struct ChainSettings {
  ServiceEndpoint sts;         // for web identity and profiles with role_arn
  std::string session_name;    // aws.role_session_name, else ferry-<hostname>
  std::string profile;         // aws.profile, else AWS_PROFILE, else "default"
  bool profile_named = false;  // chosen by aws.profile or AWS_PROFILE: its absence is then an error
  bool imds_v1_fallback = false;
};

// The profile to use and whether it was asked for by name.
std::pair<std::string, bool> ChosenProfile(const AwsOptions& aws, const Environment& env);

std::vector<ChainLink> BuildCredentialChain(const AwsOptions& aws, const ProviderContext& ctx,
                                            const ProfileFiles& files, const ChainSettings& settings);

struct FoundCredentials {
  std::unique_ptr<CredentialProvider> provider;  // kept, to refresh from
  TimedCredentials credentials;
  std::vector<std::string> failures;  // providers that were set up but failed first ("name: why")
};

// A search under way (FindCredentials). Cancel() ends it: the provider being asked is closed (a
// credential_process child is killed) and done is not called afterwards; requests through the HTTP
// clients end when those clients close. The search lives on until its last callback has run.
class CredentialSearch {
 public:
  virtual ~CredentialSearch() = default;
  virtual void Cancel() = 0;
};

// Tries each set-up provider in turn until one has credentials. done runs once, on the loop, unless the
// search is cancelled first.
std::shared_ptr<CredentialSearch> FindCredentials(std::vector<ChainLink> chain,
                                                  std::function<void(Result<FoundCredentials>)> done);

}  // namespace ferry::aws
