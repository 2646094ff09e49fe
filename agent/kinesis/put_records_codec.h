// PutRecords codec (JSON 1.1): builds the request body and reads the response, per the Kinesis API
// reference. Data is base64 in JSON; the response lists one result per request record, in order.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/core/wire_record.h"

namespace ferry::kinesis {

inline constexpr std::string_view kPutRecordsTarget = "Kinesis_20131202.PutRecords";

// {"StreamName":...,"Records":[{"Data":"<base64>","PartitionKey":...[,"ExplicitHashKey":...]},...]}
// appended to out.
void EncodePutRecords(std::string_view stream, std::span<const WireRecord> records, std::string& out);

// One entry per request record: empty error_code means the record was stored.
struct RecordResult {
  std::string error_code;
  std::string error_message;
  std::string shard_id;  // where a stored record went (empty when the answer does not say)
};

// Parses a 200 response to a request of `count` records. A body that is not that shape is a
// kProtocol error (the whole request is then retried).
Result<std::vector<RecordResult>> DecodePutRecordsResponse(std::string_view body, std::size_t count);

// The error type and message of a non-200 JSON 1.1 response ({"__type": "...#Name", "message": ...});
// the type without its namespace, or "HTTP <status>" when the body says nothing usable.
struct ServiceError {
  std::string type;
  std::string message;
};
ServiceError DecodeServiceError(int status, std::string_view body);

}  // namespace ferry::kinesis
