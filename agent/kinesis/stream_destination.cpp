// StreamDestination: encode, sign, and map PutRecords answers onto the sender's outcome.
#include "agent/kinesis/stream_destination.h"

#include <fmt/format.h>

#include "agent/aws/json_request.h"
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
  std::string body;
  EncodePutRecords(stream_, records, body);
  return aws::BuildJsonRequest(kPutRecordsTarget, std::move(body), endpoint_, credentials_,
                               clock_.UnixSeconds());
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
  out.record_shards.reserve(count);
  for (auto& r : *results) {
    if (!r.error_code.empty() && out.first_record_message.empty()) out.first_record_message = r.error_message;
    out.record_errors.push_back(std::move(r.error_code));
    out.record_shards.push_back(std::move(r.shard_id));
  }
  return out;
}

}  // namespace ferry::kinesis
