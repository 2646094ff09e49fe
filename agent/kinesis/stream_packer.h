// StreamPacker: turns a flow's records into Kinesis wire records (data plus partition key) and feeds
// them to the request collector. This is where KPL aggregation per predicted shard will sit.
// Loop thread only.
#pragma once

#include "agent/core/batch_sink.h"
#include "agent/delivery/request_collector.h"
#include "agent/kinesis/partition_keys.h"

namespace ferry::kinesis {

// PutRecords limit on one record: data plus partition key (AWS API reference).
inline constexpr std::size_t kMaxRecordBytes = 1 << 20;

class StreamPacker : public BatchSink {
 public:
  explicit StreamPacker(RequestCollector& collector) : collector_(collector) {}

  void Accept(BatchRef batch) override;

  // Longest record data this packer can send with its partition keys.
  static constexpr std::size_t MaxDataBytes() { return kMaxRecordBytes - RandomPartitionKeys::kKeyBytes; }

 private:
  RequestCollector& collector_;
  RandomPartitionKeys keys_;
};

}  // namespace ferry::kinesis
