// Fuzz target: reading PutRecords responses and JSON 1.1 error bodies, which come from the network.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/kinesis/put_records_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t count = data[0] % 8;  // the request size the response is checked against
  (void)ferry::kinesis::DecodePutRecordsResponse(body, count);
  (void)ferry::kinesis::DecodeServiceError(500, body);
  return 0;
}
