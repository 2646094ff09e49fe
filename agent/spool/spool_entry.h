// Spool entry codec: a batch of wire records as the bytes of one segment entry, and back. The spool
// writes what EncodeSpoolEntry makes; on replay, DecodeSpoolEntry turns an entry back into records that own
// their bytes (the batches they came from are gone by then). Format, version 1:
//
//   entry   := version:u8 flags:u8 count:varint raw_size:varint body
//   flags   := bit 0 set: body is one LZ4 block (liblz4's block format) that decompresses to raw_size bytes;
//              clear: body is the raw_size bytes as they are. Other bits are 0.
//   raw     := record{count}               (raw_size <= kMaxSpoolEntryRawBytes)
//   record  := varint len, data[len]; varint len, partition_key[len];
//              varint len, explicit_hash_key[len]; varint user_records
//
// Varints are LEB128 (protobuf's). Decoding checks everything against what remains and the declared
// sizes before allocating for them, so a corrupt or hostile entry yields an Error, never a crash or a
// huge allocation. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/core/wire_record.h"

namespace ferry::spool {

inline constexpr std::uint8_t kSpoolEntryVersion = 1;
inline constexpr std::uint8_t kSpoolEntryLz4 = 1;  // flags bit 0
// The records of one entry, uncompressed; more than a PutRecords request (5 MiB, AWS API docs) or
// kinesis.max_record_size (10 MiB) can hold.
inline constexpr std::size_t kMaxSpoolEntryRawBytes = 16u << 20;

// One record read back from the spool, owning its bytes.
struct SpoolRecord {
  std::string data;
  std::string partition_key;
  std::string explicit_hash_key;  // empty: Kinesis hashes the partition key
  std::uint32_t user_records = 1;

  bool operator==(const SpoolRecord&) const = default;
};

// Fails (kInvalidArgument) if the records take more than kMaxSpoolEntryRawBytes uncompressed.
Result<std::string> EncodeSpoolEntry(std::span<const WireRecord> records);
Result<std::string> EncodeSpoolEntry(std::span<const SpoolRecord> records);

// Fails with kProtocol and the reason if `bytes` is not exactly one valid entry.
Result<std::vector<SpoolRecord>> DecodeSpoolEntry(std::string_view bytes);

}  // namespace ferry::spool
