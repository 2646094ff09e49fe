// StreamDestination: encode, sign, and map PutRecords answers onto the sender's outcome.
#include "agent/kinesis/stream_destination.h"

#include <fmt/format.h>

#include "agent/aws/json_request.h"
#include "agent/delivery/response_outcome.h"
#include "agent/kinesis/put_records_cbor_codec.h"
#include "agent/kinesis/put_records_codec.h"

namespace ferry::kinesis {

StreamDestination::StreamDestination(std::string stream, aws::ServiceEndpoint endpoint,
                                     aws::CredentialSource& credentials, const Clock& clock,
                                     Protocol protocol)
    : stream_(std::move(stream)),
      endpoint_(std::move(endpoint)),
      credentials_(credentials),
      clock_(clock),
      protocol_(protocol),
      description_(fmt::format("Kinesis stream '{}' at {}", stream_, endpoint_.url)) {}

Result<net::HttpRequest> StreamDestination::BuildRequest(std::span<const WireRecord> records) {
  bool cbor = protocol_ == Protocol::kCbor;
  std::string body;
  if (cbor) {
    EncodePutRecordsCbor(stream_, records, body);
  } else {
    EncodePutRecords(stream_, records, body);
  }
  return aws::BuildJsonRequest(kPutRecordsTarget, std::move(body), endpoint_, credentials_.current(),
                               clock_.UnixSeconds(), cbor ? aws::kCborContentType : aws::kJsonContentType);
}

RequestOutcome StreamDestination::ReadResponse(const net::HttpResponse& response, std::size_t count) {
  // Kinesis has answered CBOR requests in JSON: a response that says it is JSON is read as JSON.
  const std::string* type = response.header("content-type");
  if (protocol_ == Protocol::kCbor && !(type && type->starts_with("application/x-amz-json"))) {
    return OutcomeOf(response, count, DecodeCborServiceError,
                     [count](std::string_view body) { return DecodePutRecordsCborResponse(body, count); });
  }
  return OutcomeOf(response, count, DecodeServiceError,
                   [count](std::string_view body) { return DecodePutRecordsResponse(body, count); });
}

}  // namespace ferry::kinesis
