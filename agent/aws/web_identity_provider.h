// WebIdentityProvider: a role assumed with an OIDC token from a file (EKS IRSA, any OIDC issuer) through STS
// AssumeRoleWithWebIdentity. The file is read again on every fetch, because its owner rotates the token.
#pragma once

#include <string>

#include "agent/aws/credential_provider.h"
#include "agent/aws/endpoint.h"

namespace ferry::aws {

class WebIdentityProvider final : public CredentialProvider {
 public:
  // name: "web identity" from the environment, or "profile x (web_identity_token_file)".
  WebIdentityProvider(const ProviderContext& ctx, std::string name, std::string token_file,
                      std::string role_arn, std::string session_name, ServiceEndpoint sts);
  std::string name() const override { return name_; }
  void Fetch(Callback done) override;

 private:
  const ProviderContext& ctx_;
  std::string name_;
  std::string token_file_;
  std::string role_arn_;
  std::string session_name_;
  ServiceEndpoint sts_;
};

}  // namespace ferry::aws
