// JsonRequest: the headers the JSON 1.1 APIs want, signed, with SigV4's own headers (date, session token)
// and the Authorization header appended.
#include "agent/aws/json_request.h"

#include <utility>

namespace ferry::aws {

void SignPost(net::HttpRequest& request, const ServiceEndpoint& endpoint, const Credentials& credentials,
              std::int64_t unix_seconds) {
  RequestToSign to_sign{"POST", "/", "", request.headers, request.body};
  Signed sig =
      SignRequest(to_sign, credentials, SigningParams{endpoint.region, endpoint.service, unix_seconds});
  for (auto& header : sig.added_headers) request.headers.push_back(std::move(header));
  request.headers.emplace_back("Authorization", std::move(sig.authorization));
}

net::HttpRequest BuildJsonRequest(std::string_view target, std::string body, const ServiceEndpoint& endpoint,
                                  const Credentials& credentials, std::int64_t unix_seconds,
                                  std::string_view content_type) {
  net::HttpRequest request;
  request.url = endpoint.url;
  request.method = "POST";
  request.body = std::move(body);
  request.headers = {
      {"Host", endpoint.host},
      {"Content-Type", std::string(content_type)},
      {"X-Amz-Target", std::string(target)},
  };
  SignPost(request, endpoint, credentials, unix_seconds);
  return request;
}

}  // namespace ferry::aws
