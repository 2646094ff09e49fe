// InstanceMetadata: the EC2 instance metadata service (IMDS), IMDSv2 style: a session token from
// PUT /latest/api/token first, sent with every GET. IMDSv1 (no token) only when the config allows it and the
// service refuses tokens. Used for the instance role's credentials and for the region.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/aws/credential_provider.h"

namespace ferry::aws {

class InstanceMetadata {
 public:
  // endpoint: scheme://host[:port] without a trailing '/'; see EndpointFrom.
  InstanceMetadata(const ProviderContext& ctx, std::string endpoint, bool v1_fallback);

  // AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254.
  static std::string EndpointFrom(const Environment& env);
  // AWS_EC2_METADATA_DISABLED=true turns the service off for ferry, as for the SDKs.
  static bool DisabledBy(const Environment& env);

  const std::string& endpoint() const { return endpoint_; }
  // GET path ("/latest/meta-data/placement/region"): the body of a 200, or an error naming the path.
  void Get(std::string path, std::function<void(Result<std::string>)> done);

 private:
  using TokenCallback = std::function<void(Result<std::optional<std::string>>)>;  // nullopt: IMDSv1
  void WithToken(TokenCallback done);
  void OnToken(net::HttpResponse&& response);
  void Send(std::string path, std::optional<std::string> token, bool may_renew,
            std::function<void(Result<std::string>)> done);

  const ProviderContext& ctx_;
  std::string endpoint_;
  bool v1_fallback_;
  std::optional<std::string> token_;
  std::uint64_t token_valid_until_ms_ = 0;  // loop time
  bool v1_only_ = false;                    // the service refused tokens and v1 is allowed
  std::vector<TokenCallback> waiting_;      // callers waiting for the token request in flight
};

// The instance role's credentials: the role name from /latest/meta-data/iam/security-credentials/, then its
// credential document.
class InstanceMetadataProvider final : public CredentialProvider {
 public:
  InstanceMetadataProvider(const ProviderContext& ctx, std::string endpoint, bool v1_fallback)
      : imds_(ctx, std::move(endpoint), v1_fallback) {}
  std::string name() const override { return "EC2 instance metadata"; }
  void Fetch(Callback done) override;

 private:
  InstanceMetadata imds_;
};

}  // namespace ferry::aws
