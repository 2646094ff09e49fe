// KinesisRequest: the headers Kinesis wants, signed, with SigV4's own headers (date, session token)
// and the Authorization header appended.
#include "agent/kinesis/kinesis_request.h"

#include <utility>

#include "agent/kinesis/put_records_codec.h"

namespace ferry::kinesis {

net::HttpRequest BuildKinesisRequest(std::string_view target, std::string body,
                                     const aws::ServiceEndpoint& endpoint,
                                     const aws::Credentials& credentials, std::int64_t unix_seconds) {
  net::HttpRequest request;
  request.url = endpoint.url;
  request.method = "POST";
  request.body = std::move(body);
  request.headers = {
      {"Host", endpoint.host},
      {"Content-Type", std::string(kJsonContentType)},
      {"X-Amz-Target", std::string(target)},
  };
  aws::RequestToSign to_sign{"POST", "/", "", request.headers, request.body};
  aws::Signed sig = aws::SignRequest(to_sign, credentials,
                                     aws::SigningParams{endpoint.region, endpoint.service, unix_seconds});
  for (auto& header : sig.added_headers) request.headers.push_back(std::move(header));
  request.headers.emplace_back("Authorization", std::move(sig.authorization));
  return request;
}

}  // namespace ferry::kinesis
