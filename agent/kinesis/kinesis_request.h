// KinesisRequest: one Kinesis API call (JSON 1.1) as a SigV4-signed HTTP request: POST / to the
// endpoint, X-Amz-Target naming the operation, the JSON body signed with the endpoint's region and
// service. The ListShards loader builds its requests here; StreamDestination::BuildRequest does the
// same steps inline today and should move onto this function.
// Pure: no I/O, no clock (the caller passes the signing time), safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/aws/endpoint.h"
#include "agent/aws/sigv4.h"
#include "agent/net/http_client.h"

namespace ferry::kinesis {

// target: e.g. "Kinesis_20131202.ListShards"; unix_seconds: the signing time.
net::HttpRequest BuildKinesisRequest(std::string_view target, std::string body,
                                     const aws::ServiceEndpoint& endpoint,
                                     const aws::Credentials& credentials, std::int64_t unix_seconds);

}  // namespace ferry::kinesis
