// InstanceMetadata: token handling (one token request at a time, reused until shortly before its TTL ends,
// renewed once on a 401) and the credentials provider on top.
#include "agent/aws/instance_metadata.h"

#include <fmt/format.h>

#include "agent/aws/credential_document.h"

namespace ferry::aws {
namespace {

constexpr std::uint64_t kTokenTtlSeconds = 21600;  // 6 h, the longest IMDS grants
constexpr std::uint64_t kTokenMarginMs = 60'000;   // renewed a minute before IMDS would refuse it
constexpr std::string_view kCredentialsPath = "/latest/meta-data/iam/security-credentials/";

std::string_view FirstLine(std::string_view s) {
  s = s.substr(0, s.find_first_of("\r\n"));
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

InstanceMetadata::InstanceMetadata(const ProviderContext& ctx, std::string endpoint, bool v1_fallback)
    : ctx_(ctx), endpoint_(std::move(endpoint)), v1_fallback_(v1_fallback) {
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
}

std::string InstanceMetadata::EndpointFrom(const Environment& env) {
  return env.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
}

bool InstanceMetadata::DisabledBy(const Environment& env) {
  auto value = env.Get("AWS_EC2_METADATA_DISABLED");
  return value && (*value == "true" || *value == "TRUE" || *value == "True");
}

void InstanceMetadata::Get(std::string path, std::function<void(Result<std::string>)> done) {
  WithToken([this, path = std::move(path),
             done = std::move(done)](Result<std::optional<std::string>> token) mutable {
    if (!token) {
      done(token.error());
      return;
    }
    Send(std::move(path), std::move(*token), true, std::move(done));
  });
}

void InstanceMetadata::WithToken(TokenCallback done) {
  if (v1_only_) {
    done(std::optional<std::string>());
    return;
  }
  if (token_ && uv_now(ctx_.loop) < token_valid_until_ms_) {
    done(token_);
    return;
  }
  waiting_.push_back(std::move(done));
  if (waiting_.size() > 1) return;  // a token request is already out
  net::HttpRequest request;
  request.url = endpoint_ + "/latest/api/token";
  request.method = "PUT";
  request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", std::to_string(kTokenTtlSeconds));
  ctx_.metadata.Send(std::move(request),
                     [this](net::HttpResponse&& response) { OnToken(std::move(response)); });
}

void InstanceMetadata::OnToken(net::HttpResponse&& response) {
  Result<std::optional<std::string>> outcome = std::optional<std::string>();
  if (response.transport_ok() && response.status == 200 && !response.body.empty()) {
    token_ = std::string(FirstLine(response.body));
    token_valid_until_ms_ = uv_now(ctx_.loop) + kTokenTtlSeconds * 1000 - kTokenMarginMs;
    outcome = token_;
  } else {
    const std::string what =
        response.transport_ok() ? fmt::format("HTTP {}", response.status) : response.transport_error;
    // 403: tokens refused (e.g. a proxy hop); 404/405: a service that predates IMDSv2.
    const bool refused = response.transport_ok() &&
                         (response.status == 403 || response.status == 404 || response.status == 405);
    if (refused && v1_fallback_) {
      ctx_.log.warn(
          "EC2 instance metadata at {} refused a session token ({}); using IMDSv1 as "
          "aws.imds_v1_fallback allows",
          endpoint_, what);
      v1_only_ = true;
    } else {
      outcome = Error(ErrorCode::kNetwork,
                      fmt::format("IMDSv2 session token from {}/latest/api/token: {}{}", endpoint_, what,
                                  refused ? " (IMDSv1 is off; aws.imds_v1_fallback: true allows it)" : ""));
    }
  }
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& callback : waiting) callback(outcome);
}

void InstanceMetadata::Send(std::string path, std::optional<std::string> token, bool may_renew,
                            std::function<void(Result<std::string>)> done) {
  net::HttpRequest request;
  request.url = endpoint_ + path;
  request.method = "GET";
  if (token) request.headers.emplace_back("X-aws-ec2-metadata-token", *token);
  ctx_.metadata.Send(std::move(request), [this, path = std::move(path), had_token = token.has_value(),
                                          may_renew,
                                          done = std::move(done)](net::HttpResponse&& response) mutable {
    if (!response.transport_ok()) {
      done(Error(ErrorCode::kNetwork, fmt::format("{}{}: {}", endpoint_, path, response.transport_error)));
      return;
    }
    if (response.status == 401 && had_token && may_renew) {
      token_.reset();  // expired or revoked: one new token, one more try
      WithToken([this, path = std::move(path),
                 done = std::move(done)](Result<std::optional<std::string>> token) mutable {
        if (!token) {
          done(token.error());
          return;
        }
        Send(std::move(path), std::move(*token), false, std::move(done));
      });
      return;
    }
    if (response.status != 200) {
      done(Error(ErrorCode::kRemote, fmt::format("{}{}: HTTP {}", endpoint_, path, response.status)));
      return;
    }
    done(std::move(response.body));
  });
}

void InstanceMetadataProvider::Fetch(Callback done) {
  imds_.Get(std::string(kCredentialsPath), [this, done = std::move(done)](Result<std::string> roles) mutable {
    if (!roles) {
      done(Error(roles.error().code(), "the instance's role: " + roles.error().message()));
      return;
    }
    const std::string role(FirstLine(*roles));
    if (role.empty() || role.find('/') != std::string::npos) {
      done(Error(ErrorCode::kNotFound, fmt::format("{}{}: no IAM role is attached to the instance",
                                                   imds_.endpoint(), kCredentialsPath)));
      return;
    }
    imds_.Get(
        std::string(kCredentialsPath) + role, [this, role, done = std::move(done)](Result<std::string> doc) {
          if (!doc) {
            done(doc.error());
            return;
          }
          auto parsed = ParseCredentialDocument(*doc, CredentialDocumentKind::kInstanceMetadata);
          if (!parsed) {
            done(Error(ErrorCode::kProtocol, fmt::format("{}{}{}: {}", imds_.endpoint(), kCredentialsPath,
                                                         role, parsed.error().message())));
            return;
          }
          done(TimedCredentials{{std::move(parsed->access_key_id), std::move(parsed->secret_access_key),
                                 std::move(parsed->session_token)},
                                parsed->expiration});
        });
  });
}

}  // namespace ferry::aws
