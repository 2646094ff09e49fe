// PutRecordBatch codec (JSON 1.1): builds the request body and reads the response, per the Firehose API
// reference (Firehose_20150804.PutRecordBatch). Data is base64 in JSON; the response lists one result per
// request record, in order. Pure functions: no I/O, no state, safe from any thread.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/core/wire_record.h"

namespace ferry::firehose {

inline constexpr std::string_view kPutRecordBatchTarget = "Firehose_20150804.PutRecordBatch";

// {"DeliveryStreamName":...,"Records":[{"Data":"<base64>"},...]} appended to out. Partition keys, if a
// record has one, are not sent: Firehose has none.
void EncodePutRecordBatch(std::string_view delivery_stream, std::span<const WireRecord> records,
                          std::string& out);

// One entry per request record: empty error_code means the record was stored (it had a RecordId).
struct RecordResult {
  std::string error_code;
  std::string error_message;
};

// Parses a 200 response to a request of `count` records:
//   {"FailedPutCount": n, "Encrypted": bool, "RequestResponses": [{"RecordId": s} | {"ErrorCode": s,
//   "ErrorMessage": s}, ...]}
// The per-record entries decide; FailedPutCount is not checked against them (the docs call it the number
// of records that "might have failed"). A body that is not that shape -- not JSON, a RequestResponses list
// of another length, an entry with neither a RecordId nor an ErrorCode, a field of the wrong type -- is a
// kProtocol error, and the sender then retries the whole request.
Result<std::vector<RecordResult>> DecodePutRecordBatchResponse(std::string_view body, std::size_t count);

// The error type and message of a non-200 JSON 1.1 response ({"__type": "...#Name", "message": ...}): the
// type without its namespace, or "HTTP <status>" when the body says nothing usable. The same reading as
// kinesis::DecodeServiceError, but parsed iteratively: that one recurses per nesting level, and a body of
// some 100,000 '[' overflows the stack.
struct ServiceError {
  std::string type;
  std::string message;
};
ServiceError DecodeServiceError(int status, std::string_view body);

}  // namespace ferry::firehose
