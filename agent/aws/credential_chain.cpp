// Credential chain: config keys first (explicit beats ambient), then the environment.
#include "agent/aws/credential_chain.h"

#include <fmt/format.h>

namespace ferry::aws {

Result<ResolvedCredentials> ResolveCredentials(const config::AwsOptions& aws, const Environment& env) {
  if (!aws.access_key_id.empty()) {
    return ResolvedCredentials{{aws.access_key_id, aws.secret_access_key, aws.session_token}, "config"};
  }
  auto id = env.Get("AWS_ACCESS_KEY_ID");
  auto secret = env.Get("AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    return ResolvedCredentials{{*id, *secret, env.Get("AWS_SESSION_TOKEN").value_or("")}, "environment"};
  }
  std::string why_env = !id && !secret ? "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"
                        : !id          ? "AWS_ACCESS_KEY_ID is not set"
                                       : "AWS_SECRET_ACCESS_KEY is not set";
  return Error(ErrorCode::kNotFound,
               fmt::format("no AWS credentials found; tried: config (aws.access_key_id is not set), "
                           "environment ({})",
                           why_env));
}

}  // namespace ferry::aws
