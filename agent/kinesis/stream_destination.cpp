// StreamDestination: encode, sign, and map PutRecords answers onto the sender's outcome.
#include "agent/kinesis/stream_destination.h"

#include <fmt/format.h>

#include "agent/kinesis/put_records_codec.h"

namespace ferry::kinesis {

StreamDestination::StreamDestination(std::string stream, aws::ServiceEndpoint endpoint,
                                     aws::Credentials credentials, const Clock& clock)
    : stream_(std::move(stream)),
      endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      clock_(clock),
      description_(fmt::format("Kinesis stream '{}' at {}", stream_, endpoint_.url)) {}

net::HttpRequest StreamDestination::BuildRequest(std::span<const WireRecord> records) {
  net::HttpRequest request;
  request.url = endpoint_.url;
  request.method = "POST";
  EncodePutRecords(stream_, records, request.body);
  request.headers = {
      {"Host", endpoint_.host},
      {"Content-Type", std::string(kJsonContentType)},
      {"X-Amz-Target", std::string(kPutRecordsTarget)},
  };
  aws::RequestToSign to_sign{"POST", "/", "", request.headers, request.body};
  aws::Signed sig = aws::SignRequest(
      to_sign, credentials_, aws::SigningParams{endpoint_.region, endpoint_.service, clock_.UnixSeconds()});
  for (auto& header : sig.added_headers) request.headers.push_back(std::move(header));
  request.headers.emplace_back("Authorization", std::move(sig.authorization));
  return request;
}

RequestOutcome StreamDestination::ReadResponse(const net::HttpResponse& response, std::size_t count) {
  RequestOutcome out;
  if (!response.transport_ok()) {
    out.failed = true;
    out.error_code = "transport";
    out.error_message = response.transport_error;
    return out;
  }
  if (response.status != 200) {
    ServiceError error = DecodeServiceError(response.status, response.body);
    out.failed = true;
    out.error_code = std::move(error.type);
    out.error_message = fmt::format("HTTP {}: {}", response.status, error.message);
    return out;
  }
  auto results = DecodePutRecordsResponse(response.body, count);
  if (!results) {
    out.failed = true;
    out.error_code = "InvalidResponse";
    out.error_message = results.error().message();
    return out;
  }
  out.record_errors.reserve(count);
  for (auto& r : *results) {
    if (!r.error_code.empty() && out.first_record_message.empty()) out.first_record_message = r.error_message;
    out.record_errors.push_back(std::move(r.error_code));
  }
  return out;
}

}  // namespace ferry::kinesis
