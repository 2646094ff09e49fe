// Fuzz target: reading PutRecordBatch responses and JSON 1.1 error bodies, which come from the network.
// The first byte picks the request size the response is checked against; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/firehose/put_record_batch_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t count = data[0] % 8;
  auto results = ferry::firehose::DecodePutRecordBatchResponse(body, count);
  // A response that parses has exactly one verdict per request record.
  if (results.ok() && results->size() != count) __builtin_trap();
  (void)ferry::firehose::DecodeServiceError(503, body);
  return 0;
}
