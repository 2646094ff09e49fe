// StreamPacker: one wire record per source record, each with a fresh random partition key.
#include "agent/kinesis/stream_packer.h"

namespace ferry::kinesis {

void StreamPacker::Accept(BatchRef batch) {
  constexpr std::size_t kKey = RandomPartitionKeys::kKeyBytes;
  // One arena allocation holds the keys of the whole batch.
  char* keys = batch->arena().Allocate(batch->records().size() * kKey);
  for (const Record& record : batch->records()) {
    keys_.Next(keys);
    collector_.Add(WireRecord{record.data, {keys, kKey}, batch, 1});
    keys += kKey;
  }
}

}  // namespace ferry::kinesis
