// WireRecord: one record as a destination will send it (data plus partition key), tied to the batch
// whose arena holds its bytes. Acknowledging it acknowledges the user records it carries.
#pragma once

#include <cstdint>
#include <string_view>

#include "agent/core/batch.h"

namespace ferry {

struct WireRecord {
  std::string_view data;
  std::string_view partition_key;
  BatchRef batch;                        // keeps data and the keys alive
  std::uint32_t user_records = 1;        // source records inside (more than 1 once records are aggregated)
  std::string_view explicit_hash_key{};  // decimal; empty: Kinesis hashes the partition key
  // Where the destination keeps order and meters writes (Kinesis: the shard the packer predicted from its
  // map); empty: none, the record may land anywhere.
  std::string_view lane{};
  // What the user records inside would cost, each sent as a record of its own (billing_units.h: Kinesis PUT
  // payload units, Firehose billed bytes), set by the packer; 0: not known (read back from the spool).
  std::uint64_t unaggregated_units = 0;

  // Bytes this record counts against request limits (PutRecords counts data and partition key).
  std::size_t size() const { return data.size() + partition_key.size(); }
  void Ack() const { batch->Ack(user_records); }
};

}  // namespace ferry
