// StsCall: form-encoded POST to STS, XML answer (see sts_response.h for the formats).
#include "agent/aws/sts_call.h"

#include <cctype>
#include <utility>

#include <fmt/format.h>

#include "agent/aws/json_request.h"
#include "agent/aws/sts_response.h"

namespace ferry::aws {

void CallSts(const ProviderContext& ctx, const ServiceEndpoint& sts, std::string action, std::string body,
             const Credentials* signer, CredentialProvider::Callback done) {
  net::HttpRequest request;
  request.url = sts.url;
  request.method = "POST";
  request.body = std::move(body);
  request.headers = {{"Host", sts.host},
                     {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  if (signer != nullptr) SignPost(request, sts, *signer, ctx.clock.UnixSeconds());
  ctx.http.Send(std::move(request), [action = std::move(action), url = sts.url,
                                     done = std::move(done)](net::HttpResponse&& response) {
    if (!response.transport_ok()) {
      done(
          Error(ErrorCode::kNetwork, fmt::format("STS {} at {}: {}", action, url, response.transport_error)));
      return;
    }
    if (response.status != 200) {
      StsError error = ParseStsErrorResponse(response.body);
      std::string what = fmt::format("STS {} at {}: HTTP {}", action, url, response.status);
      if (!error.code.empty()) what += " " + error.code;
      if (!error.message.empty()) what += ": " + error.message;
      done(Error(ErrorCode::kRemote, std::move(what)));
      return;
    }
    auto parsed = ParseStsCredentialsResponse(response.body, action);
    if (!parsed) {
      done(Error(ErrorCode::kProtocol, fmt::format("{} (from {})", parsed.error().message(), url)));
      return;
    }
    done(TimedCredentials{{std::move(parsed->access_key_id), std::move(parsed->secret_access_key),
                           std::move(parsed->session_token)},
                          parsed->expiration});
  });
}

std::string DefaultRoleSessionName(const std::string& hostname) {
  std::string name = "ferry-";
  for (char c : hostname) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '+' ||
                         c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
    name += allowed ? c : '-';
  }
  return name.substr(0, 64);
}

}  // namespace ferry::aws
