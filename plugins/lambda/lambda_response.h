// LambdaResponse: the one line a transformation function answers an invocation with, read into one
// outcome per record of the request (plugins/lambda/README.md, plugins/lambda/PROTOCOL.md):
//   {"records":[{"recordId":"0","result":"Ok","data":"<base64>"},...]}
// - Ok: the record's new bytes are data decoded, with one trailing "\n" (or "\r\n") taken off: the
//   function of a Firehose pipeline ends each record with a newline itself, and ferry's packing adds its
//   own. Ok without data, or with data that is not base64: the record failed (Lambda.InvalidOutput).
// - Dropped: dropped. ProcessingFailed: failed (Lambda.ProcessingFailedStatus, with the record's
//   errorMessage if it has one). Any other result: failed (Lambda.InvalidOutput).
// - A record of the request the response does not name: failed (Lambda.MissingRecordId). An entry whose
//   id the request did not have (or that is not an object with a string recordId) is ignored and counted
//   as unknown; a second entry for one id is ignored and counted as repeated.
// The whole answer fails (an error: the invocation is retried) when the line is not JSON, not an object,
// or has no `records` array; Lambda's error shape ({"errorType","errorMessage",...}, what the wrappers
// answer when the handler throws) fails it too, with the function's error in the message.
// Record ids are the request's positions ("0", "1", ...: lambda_event.h), read as decimal without a sign
// or leading zeros; anything else is an unknown id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace ferry::plugins {

enum class LambdaResult : std::uint8_t {
  kOk,
  kDropped,
  kFailed,  // ProcessingFailed, an invalid output, or a missing id: reason says which
};

struct LambdaRecordOutcome {
  LambdaResult result = LambdaResult::kFailed;
  std::size_t offset = 0;  // kOk: its bytes are LambdaResponse::data[offset, offset + size)
  std::size_t size = 0;
  std::string reason;  // kFailed
};

struct LambdaResponse {
  std::vector<LambdaRecordOutcome> records;  // one per record of the request, in its order
  std::string data;                          // the decoded bytes of the Ok records, one after the other
  std::uint64_t unknown_ids = 0;
  std::uint64_t repeated_ids = 0;

  std::string_view bytes(std::size_t i) const {
    return std::string_view(data).substr(records[i].offset, records[i].size);
  }
};

// Reads line (without its newline) as the answer to a request of request_records records.
Result<LambdaResponse> ParseLambdaResponse(std::string_view line, std::size_t request_records);

}  // namespace ferry::plugins
