// StreamDestination: Kinesis Data Streams PutRecords (JSON 1.1, or CBOR 1.1 where data travels as raw
// bytes instead of base64) as a delivery Destination, with each request signed by SigV4 for the stream's
// region.
#pragma once

#include <string>

#include "agent/aws/credential_source.h"
#include "agent/aws/endpoint.h"
#include "agent/core/clock.h"
#include "agent/delivery/destination.h"

namespace ferry::kinesis {

// The body encoding of PutRecords calls; the target and the signing are the same for both.
enum class Protocol { kJson, kCbor };

class StreamDestination : public Destination {
 public:
  StreamDestination(std::string stream, aws::ServiceEndpoint endpoint, aws::CredentialSource& credentials,
                    const Clock& clock, Protocol protocol = Protocol::kJson);

  const std::string& description() const override { return description_; }
  Result<net::HttpRequest> BuildRequest(std::span<const WireRecord> records) override;
  RequestOutcome ReadResponse(const net::HttpResponse& response, std::size_t count) override;

 private:
  std::string stream_;
  aws::ServiceEndpoint endpoint_;
  aws::CredentialSource& credentials_;
  const Clock& clock_;
  Protocol protocol_ = Protocol::kJson;
  std::string description_;
};

}  // namespace ferry::kinesis
