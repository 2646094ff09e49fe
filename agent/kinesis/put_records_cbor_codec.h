// PutRecords codec (CBOR 1.1): the same call as put_records_codec.h with CBOR bodies, as Kinesis takes it
// under Content-Type application/x-amz-cbor-1.1 (what the AWS SDK for Java sends). Record data travels as
// a CBOR byte string, not base64. Results, errors and their messages follow the JSON codec's conventions.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/core/wire_record.h"
#include "agent/kinesis/put_records_codec.h"

namespace ferry::kinesis {

// {"StreamName": text, "Records": [{"Data": bytes, "PartitionKey": text[, "ExplicitHashKey": text]}, ...]}
// with definite lengths, appended to out.
void EncodePutRecordsCbor(std::string_view stream, std::span<const WireRecord> records, std::string& out);

// Parses a 200 response to a request of `count` records: a map whose Records array holds one map per
// request record. Definite and indefinite lengths are both read; tags are ignored. A body that is not
// exactly one well-formed item of that shape is a kProtocol error (the whole request is then retried).
Result<std::vector<RecordResult>> DecodePutRecordsCborResponse(std::string_view body, std::size_t count);

// The error type and message of a non-200 response ({"__type": "...#Name", "message": ...} in CBOR).
// Kinesis has been seen answering a CBOR request's error in JSON, so a body that is not a CBOR map is read
// as DecodeServiceError reads it (which falls back to "HTTP <status>").
ServiceError DecodeCborServiceError(int status, std::string_view body);

}  // namespace ferry::kinesis
