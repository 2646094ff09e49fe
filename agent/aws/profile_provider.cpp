// ProfileProvider: resolution of a profile into providers, following the AWS SDKs' precedence.
#include "agent/aws/profile_provider.h"

#include <set>

#include <fmt/format.h>

#include "agent/aws/assume_role_provider.h"
#include "agent/aws/container_provider.h"
#include "agent/aws/instance_metadata.h"
#include "agent/aws/process_provider.h"
#include "agent/aws/web_identity_provider.h"

namespace ferry::aws {
namespace {

using ProviderResult = Result<std::unique_ptr<CredentialProvider>>;

const std::string* Value(const ProfileSettings& p, const char* key) {
  auto it = p.values.find(key);
  return it == p.values.end() || it->second.empty() ? nullptr : &it->second;
}

Error ProfileError(const std::string& name, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, fmt::format("profile {}: {}", name, what));
}

// Static keys or credential_process: the forms a profile has without assuming a role.
std::unique_ptr<CredentialProvider> DirectProvider(const ProfileContext& pc, const std::string& name,
                                                   const ProfileSettings& p, std::string* why) {
  const std::string* id = Value(p, "aws_access_key_id");
  const std::string* secret = Value(p, "aws_secret_access_key");
  if (id != nullptr && secret != nullptr) {
    const std::string* token = Value(p, "aws_session_token");
    return std::make_unique<StaticProvider>(fmt::format("profile {}", name),
                                            Credentials{*id, *secret, token != nullptr ? *token : ""});
  }
  if (id != nullptr || secret != nullptr) {
    *why = id != nullptr ? "aws_access_key_id without aws_secret_access_key"
                         : "aws_secret_access_key without aws_access_key_id";
    return nullptr;
  }
  if (const std::string* command = Value(p, "credential_process")) {
    return std::make_unique<ProcessProvider>(pc.ctx, fmt::format("profile {} (credential_process)", name),
                                             *command);
  }
  if (Value(p, "sso_session") != nullptr || Value(p, "sso_start_url") != nullptr) {
    *why =
        "IAM Identity Center (SSO) profiles are not supported; use credential_process with "
        "`aws configure export-credentials --format process`";
    return nullptr;
  }
  *why = "no credentials (aws_access_key_id, credential_process or role_arn)";
  return nullptr;
}

ProviderResult CredentialSource(const ProfileContext& pc, const std::string& name,
                                const std::string& source) {
  if (source == "Environment") {
    auto id = pc.ctx.env.Get("AWS_ACCESS_KEY_ID");
    auto secret = pc.ctx.env.Get("AWS_SECRET_ACCESS_KEY");
    if (!id || !secret) {
      return ProfileError(name,
                          "credential_source Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                          "are not both set");
    }
    return std::unique_ptr<CredentialProvider>(std::make_unique<StaticProvider>(
        "environment", Credentials{*id, *secret, pc.ctx.env.Get("AWS_SESSION_TOKEN").value_or("")}));
  }
  if (source == "Ec2InstanceMetadata") {
    return std::unique_ptr<CredentialProvider>(std::make_unique<InstanceMetadataProvider>(
        pc.ctx, InstanceMetadata::EndpointFrom(pc.ctx.env), pc.imds_v1_fallback));
  }
  if (source == "EcsContainer") {
    std::string why;
    auto container = ContainerProvider::FromEnvironment(pc.ctx, &why);
    if (!container) return ProfileError(name, container.error().message());
    if (!*container) return ProfileError(name, "credential_source EcsContainer, but " + why);
    return std::unique_ptr<CredentialProvider>(std::move(*container));
  }
  return ProfileError(name, fmt::format("credential_source must be Environment, Ec2InstanceMetadata or "
                                        "EcsContainer, not '{}'",
                                        source));
}

ProviderResult Resolve(const ProfileContext& pc, const std::string& name, std::set<std::string>& visited) {
  auto profile = pc.files.Profile(name);
  if (!profile) {
    return Error(ErrorCode::kNotFound, fmt::format("profile {} is in neither {} nor {}", name,
                                                   pc.files.config_path, pc.files.credentials_path));
  }
  const ProfileSettings& p = *profile;
  visited.insert(name);
  const std::string* role_arn = Value(p, "role_arn");
  if (role_arn == nullptr) {
    if (Value(p, "web_identity_token_file") != nullptr)
      return ProfileError(name, "web_identity_token_file needs role_arn");
    std::string why;
    auto direct = DirectProvider(pc, name, p, &why);
    if (!direct) return ProfileError(name, why);
    return direct;
  }

  const std::string* session = Value(p, "role_session_name");
  const std::string session_name = session != nullptr ? *session : pc.default_session_name;
  if (const std::string* token_file = Value(p, "web_identity_token_file")) {
    return std::unique_ptr<CredentialProvider>(std::make_unique<WebIdentityProvider>(
        pc.ctx, fmt::format("profile {} (web_identity_token_file)", name), *token_file, *role_arn,
        session_name, pc.sts));
  }
  const std::string* source_profile = Value(p, "source_profile");
  const std::string* credential_source = Value(p, "credential_source");
  if ((source_profile != nullptr) == (credential_source != nullptr)) {
    return ProfileError(name, "role_arn needs exactly one of source_profile and credential_source");
  }
  std::unique_ptr<CredentialProvider> source;
  if (credential_source != nullptr) {
    auto found = CredentialSource(pc, name, *credential_source);
    if (!found) return found.error();
    source = std::move(*found);
  } else {
    auto source_settings = pc.files.Profile(*source_profile);
    // A profile that is its own source uses its own keys (the SDKs' rule); any other cycle is an error.
    const bool self_with_keys = *source_profile == name && Value(p, "aws_access_key_id") != nullptr;
    if (self_with_keys) {
      std::string why;
      source = DirectProvider(pc, name, p, &why);
      if (!source) return ProfileError(name, why);
    } else if (visited.contains(*source_profile)) {
      return ProfileError(
          name, fmt::format("source_profile {} leads back to a profile already on the way", *source_profile));
    } else if (source_settings && Value(*source_settings, "role_arn") == nullptr) {
      std::string why;
      source = DirectProvider(pc, *source_profile, *source_settings, &why);
      if (!source) return ProfileError(name, fmt::format("source_profile {}: {}", *source_profile, why));
    } else {
      auto chained = Resolve(pc, *source_profile, visited);
      if (!chained) return ProfileError(name, chained.error().message());
      source = std::move(*chained);
    }
  }
  AssumeRoleSettings settings;
  settings.role_arn = *role_arn;
  settings.session_name = session_name;
  if (const std::string* external_id = Value(p, "external_id")) settings.external_id = *external_id;
  if (const std::string* duration = Value(p, "duration_seconds")) {
    char* end = nullptr;
    const unsigned long seconds = std::strtoul(duration->c_str(), &end, 10);
    if (*end != '\0' || seconds < 900 || seconds > 43200) {
      return ProfileError(name, "duration_seconds must be a number from 900 to 43200");
    }
    settings.duration_seconds = static_cast<std::int32_t>(seconds);
  }
  return std::unique_ptr<CredentialProvider>(std::make_unique<AssumeRoleProvider>(
      pc.ctx, fmt::format("profile {} (role_arn via {})", name, source->name()), std::move(source),
      std::move(settings), pc.sts));
}

}  // namespace

Result<ProfileFiles> LoadProfileFiles(const Environment& env) {
  ProfileFiles files;
  auto home = env.Get("HOME");
  auto config = env.Get("AWS_CONFIG_FILE");
  auto credentials = env.Get("AWS_SHARED_CREDENTIALS_FILE");
  if (config) {
    files.config_path = *config;
  } else if (home) {
    files.config_path = *home + "/.aws/config";
  }
  if (credentials) {
    files.credentials_path = *credentials;
  } else if (home) {
    files.credentials_path = *home + "/.aws/credentials";
  }
  if (!files.config_path.empty()) {
    auto loaded = LoadSharedConfig(files.config_path, SharedFileKind::kConfig);
    if (!loaded) return loaded.error();
    files.config = std::move(*loaded);
  }
  if (!files.credentials_path.empty()) {
    auto loaded = LoadSharedConfig(files.credentials_path, SharedFileKind::kCredentials);
    if (!loaded) return loaded.error();
    files.credentials = std::move(*loaded);
  }
  return files;
}

Result<std::unique_ptr<CredentialProvider>> ProviderForProfile(const ProfileContext& pc,
                                                               const std::string& name) {
  std::set<std::string> visited;
  return Resolve(pc, name, visited);
}

}  // namespace ferry::aws
