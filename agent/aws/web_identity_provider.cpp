// WebIdentityProvider: token file, then an anonymous AssumeRoleWithWebIdentity.
#include "agent/aws/web_identity_provider.h"

#include <fmt/format.h>

#include "agent/aws/sts_call.h"
#include "agent/aws/sts_response.h"
#include "agent/core/whole_file.h"

namespace ferry::aws {
namespace {

constexpr std::size_t kMaxTokenBytes = 64 << 10;  // OIDC tokens are a few KiB; this is far beyond any

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

}  // namespace

WebIdentityProvider::WebIdentityProvider(const ProviderContext& ctx, std::string name, std::string token_file,
                                         std::string role_arn, std::string session_name, ServiceEndpoint sts)
    : ctx_(ctx),
      name_(std::move(name)),
      token_file_(std::move(token_file)),
      role_arn_(std::move(role_arn)),
      session_name_(std::move(session_name)),
      sts_(std::move(sts)) {}

void WebIdentityProvider::Fetch(Callback done) {
  auto file = ReadWholeFile(token_file_, kMaxTokenBytes, "web identity token file");
  if (!file) {
    done(file.error());
    return;
  }
  if (file->too_large) {
    done(Error(ErrorCode::kInvalidArgument,
               fmt::format("web identity token file {}: larger than {} bytes", token_file_, kMaxTokenBytes)));
    return;
  }
  const std::string_view token = Trimmed(file->bytes);
  if (token.empty()) {
    done(Error(ErrorCode::kInvalidArgument, fmt::format("web identity token file {} is empty", token_file_)));
    return;
  }
  CallSts(ctx_, sts_, "AssumeRoleWithWebIdentity",
          StsAssumeRoleWithWebIdentityBody(role_arn_, session_name_, std::string(token), 0), nullptr,
          std::move(done));
}

}  // namespace ferry::aws
