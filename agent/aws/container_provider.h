// ContainerProvider: the ECS (and EKS Pod Identity) container credentials endpoint, named by
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, with the
// authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch: it is rotated) or
// AWS_CONTAINER_AUTHORIZATION_TOKEN.
#pragma once

#include <memory>
#include <string>

#include "agent/aws/credential_provider.h"

namespace ferry::aws {

class ContainerProvider final : public CredentialProvider {
 public:
  // Reads the variables; nullptr with `why` set when none names an endpoint, an error when they are wrong
  // (a plain-http FULL_URI to a host that is not loopback or the ECS/EKS link-local address).
  static Result<std::unique_ptr<ContainerProvider>> FromEnvironment(const ProviderContext& ctx,
                                                                    std::string* why);

  std::string name() const override { return "ECS container"; }
  void Fetch(Callback done) override;

 private:
  ContainerProvider(const ProviderContext& ctx, std::string url) : ctx_(ctx), url_(std::move(url)) {}
  Result<std::string> AuthorizationToken() const;

  const ProviderContext& ctx_;
  std::string url_;
};

}  // namespace ferry::aws
