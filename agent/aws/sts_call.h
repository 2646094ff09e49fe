// StsCall: one STS query-protocol call that returns temporary credentials (AssumeRole, signed with the
// caller's credentials; AssumeRoleWithWebIdentity, anonymous). Shared by the providers that assume roles.
#pragma once

#include <string>

#include "agent/aws/credential_provider.h"
#include "agent/aws/endpoint.h"

namespace ferry::aws {

// Posts body to STS and parses the answer. signer: the credentials to sign with, or nullptr for an anonymous
// call. Errors name the action and the endpoint, with STS's own error code and message when it gave one.
void CallSts(const ProviderContext& ctx, const ServiceEndpoint& sts, std::string action, std::string body,
             const Credentials* signer, CredentialProvider::Callback done);

// The role session name when none is configured: "ferry-<hostname>", cut to STS's 64 characters and to the
// characters it allows ([\w+=,.@-]).
std::string DefaultRoleSessionName(const std::string& hostname);

}  // namespace ferry::aws
