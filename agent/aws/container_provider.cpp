// ContainerProvider: GET the endpoint with the token, parse the JSON credential document.
#include "agent/aws/container_provider.h"

#include <fmt/format.h>

#include "agent/aws/credential_document.h"
#include "agent/aws/endpoint.h"
#include "agent/core/whole_file.h"

namespace ferry::aws {
namespace {

constexpr std::string_view kEcsHost = "http://169.254.170.2";

// Plain http is allowed only where nobody else can listen: loopback and the link-local agent addresses.
bool HttpAllowedHost(std::string_view host) {
  return host == "localhost" || host.starts_with("127.") || host == "[::1]" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

std::string_view TrimmedLine(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::unique_ptr<ContainerProvider>> ContainerProvider::FromEnvironment(const ProviderContext& ctx,
                                                                              std::string* why) {
  if (auto relative = ctx.env.Get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    if (!relative->starts_with("/")) {
      return Error(ErrorCode::kInvalidArgument, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must begin with '/'");
    }
    return std::unique_ptr<ContainerProvider>(new ContainerProvider(ctx, std::string(kEcsHost) + *relative));
  }
  auto full = ctx.env.Get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!full) {
    *why = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set";
    return std::unique_ptr<ContainerProvider>();
  }
  auto parts = SplitUrl(*full);
  if (!parts) {
    return Error(ErrorCode::kInvalidArgument,
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI: " + parts.error().message());
  }
  if (parts->scheme != "https" && !(parts->scheme == "http" && HttpAllowedHost(parts->host))) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("AWS_CONTAINER_CREDENTIALS_FULL_URI {} must be https, or http to a loopback or the "
                    "ECS/EKS link-local address",
                    *full));
  }
  return std::unique_ptr<ContainerProvider>(new ContainerProvider(ctx, *full));
}

Result<std::string> ContainerProvider::AuthorizationToken() const {
  std::string token;
  if (auto path = ctx_.env.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auto file = ReadWholeFile(*path, 16 << 10, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (!file) return file.error();
    if (file->too_large) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {} is larger than 16 KiB", *path));
    }
    token = TrimmedLine(file->bytes);
  } else if (auto value = ctx_.env.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *value;
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "the container authorization token holds a line break");
  }
  return token;
}

void ContainerProvider::Fetch(Callback done) {
  auto token = AuthorizationToken();
  if (!token) {
    done(token.error());
    return;
  }
  net::HttpRequest request;
  request.url = url_;
  request.method = "GET";
  request.headers.emplace_back("Accept", "application/json");
  if (!token->empty()) request.headers.emplace_back("Authorization", std::move(*token));
  ctx_.metadata.Send(std::move(request), [url = url_, done = std::move(done)](net::HttpResponse&& response) {
    if (!response.transport_ok()) {
      done(Error(ErrorCode::kNetwork, fmt::format("{}: {}", url, response.transport_error)));
      return;
    }
    if (response.status != 200) {
      done(Error(ErrorCode::kRemote, fmt::format("{}: HTTP {}{}", url, response.status,
                                                 response.status == 401 || response.status == 403
                                                     ? " (the authorization token was refused)"
                                                     : "")));
      return;
    }
    auto parsed = ParseCredentialDocument(response.body, CredentialDocumentKind::kContainer);
    if (!parsed) {
      done(Error(ErrorCode::kProtocol, fmt::format("{}: {}", url, parsed.error().message())));
      return;
    }
    done(TimedCredentials{{std::move(parsed->access_key_id), std::move(parsed->secret_access_key),
                           std::move(parsed->session_token)},
                          parsed->expiration});
  });
}

}  // namespace ferry::aws
