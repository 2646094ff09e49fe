// Destination: what the sender needs to know about an endpoint API (Kinesis PutRecords, Firehose
// PutRecordBatch): how to turn wire records into a signed HTTP request, and how to read the answer.
// The sender owns retries, backoff and acknowledgement; a destination owns the wire format.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "agent/core/wire_record.h"
#include "agent/net/http_client.h"

namespace ferry {

// The answer to one request.
struct RequestOutcome {
  // Set when the request as a whole failed (HTTP error, unreadable body); every record is retried.
  bool failed = false;
  std::string error_code;                   // e.g. "ResourceNotFoundException", "HTTP 503", "transport"
  std::string error_message;                // for the log
  int http_status = 0;                      // when the endpoint answered with an error status
  std::optional<std::int64_t> server_time;  // its Date header then (unix seconds), for clock skew
  // When !failed: one error code per record, in request order; empty means stored.
  std::vector<std::string> record_errors;
  std::string first_record_message;  // a sample of the per-record messages, for the log
  // When !failed and the API says: the lane each stored record went to (Kinesis: its shard), in request
  // order.
  std::vector<std::string> record_lanes;
};

class Destination {
 public:
  virtual ~Destination() = default;
  // For logs: "Kinesis stream 'web-logs'".
  virtual const std::string& description() const = 0;
  // The signed request that sends records. It may fail (compression could not allocate): the sender then
  // retries later. Runs inside HTTP callbacks, so it reports failure as a value and never throws.
  virtual Result<net::HttpRequest> BuildRequest(std::span<const WireRecord> records) = 0;
  virtual RequestOutcome ReadResponse(const net::HttpResponse& response, std::size_t count) = 0;
};

}  // namespace ferry
