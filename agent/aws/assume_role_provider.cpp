// AssumeRoleProvider: source credentials first (fresh each time, so a temporary source never signs expired),
// then AssumeRole signed with them.
#include "agent/aws/assume_role_provider.h"

#include <fmt/format.h>

#include "agent/aws/sts_call.h"
#include "agent/aws/sts_response.h"

namespace ferry::aws {

AssumeRoleProvider::AssumeRoleProvider(const ProviderContext& ctx, std::string name,
                                       std::unique_ptr<CredentialProvider> source,
                                       AssumeRoleSettings settings, ServiceEndpoint sts)
    : ctx_(ctx),
      name_(std::move(name)),
      source_(std::move(source)),
      settings_(std::move(settings)),
      sts_(std::move(sts)) {}

void AssumeRoleProvider::Fetch(Callback done) {
  source_->Fetch([this, done = std::move(done)](Result<TimedCredentials> source) mutable {
    if (!source) {
      done(Error(source.error().code(),
                 fmt::format("the credentials to assume {} with, from {}: {}", settings_.role_arn,
                             source_->name(), source.error().message())));
      return;
    }
    StsAssumeRoleRequest request;
    request.role_arn = settings_.role_arn;
    request.role_session_name = settings_.session_name;
    request.external_id = settings_.external_id;
    request.duration_seconds = settings_.duration_seconds;
    CallSts(ctx_, sts_, "AssumeRole", StsAssumeRoleBody(request), &source->credentials, std::move(done));
  });
}

}  // namespace ferry::aws
