// JsonRequest: one AWS JSON 1.1 API call (Kinesis, Firehose) as a SigV4-signed HTTP request: POST / to the
// endpoint, X-Amz-Target naming the operation, the JSON body signed with the endpoint's region and service.
// Kinesis also takes the same call with a CBOR 1.1 body; only the content type differs.
// Pure: no I/O, no clock (the caller passes the signing time), safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/aws/endpoint.h"
#include "agent/aws/sigv4.h"
#include "agent/net/http_client.h"

namespace ferry::aws {

inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kCborContentType = "application/x-amz-cbor-1.1";

// Signs a POST / to endpoint in place: request.headers (Host first) and body are signed, SigV4's own headers
// and Authorization are appended. Also used for STS's query-protocol calls.
void SignPost(net::HttpRequest& request, const ServiceEndpoint& endpoint, const Credentials& credentials,
              std::int64_t unix_seconds);

// target: e.g. "Kinesis_20131202.ListShards"; unix_seconds: the signing time; content_type: what the body is.
net::HttpRequest BuildJsonRequest(std::string_view target, std::string body, const ServiceEndpoint& endpoint,
                                  const Credentials& credentials, std::int64_t unix_seconds,
                                  std::string_view content_type = kJsonContentType);

}  // namespace ferry::aws
