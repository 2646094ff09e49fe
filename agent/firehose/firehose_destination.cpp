// FirehoseDestination: encode, sign, and map PutRecordBatch answers onto the sender's outcome.
#include "agent/firehose/firehose_destination.h"

#include <utility>

#include <fmt/format.h>

#include "agent/aws/json_request.h"
#include "agent/delivery/response_outcome.h"
#include "agent/firehose/put_record_batch_codec.h"

namespace ferry::firehose {

FirehoseDestination::FirehoseDestination(std::string delivery_stream, aws::ServiceEndpoint endpoint,
                                         aws::CredentialSource& credentials, const Clock& clock)
    : delivery_stream_(std::move(delivery_stream)),
      endpoint_(std::move(endpoint)),
      credentials_(credentials),
      clock_(clock),
      description_(fmt::format("Firehose delivery stream '{}' at {}", delivery_stream_, endpoint_.url)) {}

Result<net::HttpRequest> FirehoseDestination::BuildRequest(std::span<const WireRecord> records) {
  std::string body;
  EncodePutRecordBatch(delivery_stream_, records, body);
  // Signed for Firehose whatever the endpoint was resolved for.
  aws::ServiceEndpoint endpoint = endpoint_;
  endpoint.service = std::string(kSigningService);
  return aws::BuildJsonRequest(kPutRecordBatchTarget, std::move(body), endpoint, credentials_.current(),
                               clock_.UnixSeconds());
}

RequestOutcome FirehoseDestination::ReadResponse(const net::HttpResponse& response, std::size_t count) {
  return OutcomeOf(response, count, DecodeServiceError,
                   [count](std::string_view body) { return DecodePutRecordBatchResponse(body, count); });
}

}  // namespace ferry::firehose
