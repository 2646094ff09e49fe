// StreamDestination: Kinesis Data Streams PutRecords (JSON 1.1) as a delivery Destination, with each
// request signed by SigV4 for the stream's region.
#pragma once

#include <string>

#include "agent/aws/endpoint.h"
#include "agent/aws/sigv4.h"
#include "agent/core/clock.h"
#include "agent/delivery/destination.h"

namespace ferry::kinesis {

class StreamDestination : public Destination {
 public:
  StreamDestination(std::string stream, aws::ServiceEndpoint endpoint, aws::Credentials credentials,
                    const Clock& clock);

  const std::string& description() const override { return description_; }
  net::HttpRequest BuildRequest(std::span<const WireRecord> records) override;
  RequestOutcome ReadResponse(const net::HttpResponse& response, std::size_t count) override;

 private:
  std::string stream_;
  aws::ServiceEndpoint endpoint_;
  aws::Credentials credentials_;
  const Clock& clock_;
  std::string description_;
};

}  // namespace ferry::kinesis
