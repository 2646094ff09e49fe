// Fuzz target: reading PutRecords responses and error bodies in CBOR 1.1, which come from the network.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/kinesis/put_records_cbor_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t count = data[0] % 8;  // the request size the response is checked against
  auto results = ferry::kinesis::DecodePutRecordsCborResponse(body, count);
  if (results.ok() && results->size() != count) __builtin_trap();  // one result per record, always
  (void)ferry::kinesis::DecodeCborServiceError(500, body);
  return 0;
}
