// Credential chain: finds the AWS credentials to sign with, trying each provider in order and saying,
// when none has any, what was tried and why each failed. This stage knows static config keys and the
// standard environment variables; web identity, shared files, ECS and IMDS providers slot in after them.
#pragma once

#include "agent/aws/sigv4.h"
#include "agent/config/config.h"
#include "agent/core/environment.h"
#include "agent/core/result.h"

namespace ferry::aws {

struct ResolvedCredentials {
  Credentials credentials;
  std::string provider;  // "config" or "environment", for logs
};

Result<ResolvedCredentials> ResolveCredentials(const config::AwsOptions& aws, const Environment& env);

}  // namespace ferry::aws
