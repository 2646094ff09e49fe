// FirehoseDestination: Amazon Data Firehose PutRecordBatch (JSON 1.1) as a delivery Destination, the
// Firehose counterpart of kinesis::StreamDestination: each request is the delivery stream's records,
// signed with SigV4 for the service "firehose" in the endpoint's region, and each answer becomes one
// verdict per record. Retries are the sender's: like Kinesis, every failure is retried (a per-record
// ServiceUnavailableException or InternalFailure only for that record; throttling, which Firehose answers
// with HTTP 503 ServiceUnavailableException, and every other HTTP error for the whole request).
// Loop thread only (it reads the clock and keeps no other state).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "agent/aws/credential_source.h"
#include "agent/aws/endpoint.h"
#include "agent/core/clock.h"
#include "agent/delivery/destination.h"

namespace ferry::firehose {

// The SigV4 service name of Firehose. Requests are signed for it whatever endpoint.service says, so a VPC
// endpoint or emulator URL cannot change the credential scope.
inline constexpr std::string_view kSigningService = "firehose";

class FirehoseDestination : public Destination {
 public:
  // endpoint: aws::ResolveEndpoint("firehose", region, firehose_endpoint); clock must outlive this.
  FirehoseDestination(std::string delivery_stream, aws::ServiceEndpoint endpoint,
                      aws::CredentialSource& credentials, const Clock& clock);

  const std::string& description() const override { return description_; }
  Result<net::HttpRequest> BuildRequest(std::span<const WireRecord> records) override;
  RequestOutcome ReadResponse(const net::HttpResponse& response, std::size_t count) override;

 private:
  std::string delivery_stream_;
  aws::ServiceEndpoint endpoint_;
  aws::CredentialSource& credentials_;
  const Clock& clock_;
  std::string description_;
};

}  // namespace ferry::firehose
