// LambdaEvent: the one line of JSON the lambda plugin writes to its function per invocation, the event
// Firehose gives a data-transformation Lambda (plugins/lambda/README.md, plugins/lambda/PROTOCOL.md):
//   {"invocationId":"<uuid>","deliveryStreamArn":"<arn>","region":"<region>","records":[
//     {"recordId":"0","approximateArrivalTimestamp":1700000000123,"data":"<base64>"},...]}\n
// recordIds are the records' positions in the invocation ("0", "1", ...): unique within it, and matched
// back without a lookup table (lambda_response.h). The size of an event is known before it is written
// (EmptyBytes + RecordBytes of each record), so invocations are cut to batch_bytes exactly.
// Records are written straight from the batch as base64 (one copy); nothing is allocated per record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "agent/core/batch.h"

namespace ferry::plugins {

class LambdaEventWriter {
 public:
  // The ARN and the region as the event gives them (JSON-escaped here).
  LambdaEventWriter(std::string_view delivery_stream_arn, std::string_view region);

  // Bytes of an event with no records, its newline included.
  std::size_t EmptyBytes() const { return head_.size() + kIdBytes + kTail.size(); }
  // Bytes that the record at index of an invocation adds to its event (the comma before it included).
  static std::size_t RecordBytes(std::size_t index, std::int64_t arrival_ms, std::size_t data_bytes);

  // Appends the event line (with its '\n') of records to out; invocation_id is a UUID (36 characters).
  void Write(std::string& out, std::string_view invocation_id, std::int64_t arrival_ms,
             std::span<const Record> records) const;

 private:
  static constexpr std::size_t kIdBytes = 36 + 17;  // {"invocationId":"<uuid>
  static constexpr std::string_view kTail = "]}\n";
  std::string head_;  // ","deliveryStreamArn":...,"records":[
};

}  // namespace ferry::plugins
