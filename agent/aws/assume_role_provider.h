// AssumeRoleProvider: a role assumed with STS AssumeRole, signed with another provider's credentials (a
// profile's role_arn + source_profile or credential_source, or aws.role_arn on top of the whole chain).
#pragma once

#include <memory>
#include <string>

#include "agent/aws/credential_provider.h"
#include "agent/aws/endpoint.h"

namespace ferry::aws {

struct AssumeRoleSettings {
  std::string role_arn;
  std::string session_name;
  std::string external_id;            // empty: not sent
  std::int32_t duration_seconds = 0;  // 0: STS's default (1 hour)
};

class AssumeRoleProvider final : public CredentialProvider {
 public:
  // name: how it is named in logs ("role arn:aws:iam::1:role/x via profile default").
  AssumeRoleProvider(const ProviderContext& ctx, std::string name, std::unique_ptr<CredentialProvider> source,
                     AssumeRoleSettings settings, ServiceEndpoint sts);
  std::string name() const override { return name_; }
  void Fetch(Callback done) override;
  void Close() override { source_->Close(); }

 private:
  const ProviderContext& ctx_;
  std::string name_;
  std::unique_ptr<CredentialProvider> source_;
  AssumeRoleSettings settings_;
  ServiceEndpoint sts_;
};

}  // namespace ferry::aws
