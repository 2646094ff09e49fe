// ProfileProvider: the credentials a named profile of ~/.aws/config and ~/.aws/credentials stands for, built
// the way the AWS SDKs resolve it: role_arn with source_profile (chains followed, cycles refused),
// credential_source or web_identity_token_file; static keys; credential_process.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "agent/aws/credential_provider.h"
#include "agent/aws/endpoint.h"
#include "agent/aws/shared_config.h"

namespace ferry::aws {

struct ProfileFiles {
  std::string config_path;       // AWS_CONFIG_FILE, else $HOME/.aws/config
  std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials
  SharedConfig config;
  SharedConfig credentials;

  std::optional<ProfileSettings> Profile(const std::string& name) const {
    return MergedProfile(config, credentials, name);
  }
};

// Both files (a missing one is empty). Errors name the file and line; nothing is read without HOME or the
// variables naming the files.
Result<ProfileFiles> LoadProfileFiles(const Environment& env);

struct ProfileContext {
  const ProviderContext& ctx;
  const ProfileFiles& files;
  ServiceEndpoint sts;               // for role_arn and web_identity_token_file
  std::string default_session_name;  // when the profile names no role_session_name
  bool imds_v1_fallback = false;     // for credential_source = Ec2InstanceMetadata
};

// The provider for profile `name`. Errors say what in the profile is wrong or missing ("profile dev:
// source_profile base has no credentials"), never a value.
Result<std::unique_ptr<CredentialProvider>> ProviderForProfile(const ProfileContext& pc,
                                                               const std::string& name);

}  // namespace ferry::aws
