// Aggregator: sizes are kept exact as records arrive, so Finish can write the protobuf with protozero
// straight into the caller's fixed buffer -- each Record's length is known before its fields, so nothing
// is reserved and moved back -- and then hash it with OpenSSL's EVP MD5.
#include "agent/kinesis/aggregator.h"

#include <openssl/evp.h>
#include <protozero/buffer_fixed.hpp>
#include <protozero/pbf_writer.hpp>
#include <protozero/varint.hpp>

#include <array>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace ferry::kinesis {
namespace {

constexpr std::array<char, Aggregator::kMagicBytes> kMagic = {'\xF3', '\x89', '\x9A', '\xC2'};

// Field numbers of kpl.proto (amazon-kinesis-producer aggregation-format.md).
constexpr protozero::pbf_tag_type kPartitionKeyTable = 1;     // AggregatedRecord.partition_key_table
constexpr protozero::pbf_tag_type kExplicitHashKeyTable = 2;  // AggregatedRecord.explicit_hash_key_table
constexpr protozero::pbf_tag_type kRecords = 3;               // AggregatedRecord.records
constexpr protozero::pbf_tag_type kPartitionKeyIndex = 1;     // Record.partition_key_index
constexpr protozero::pbf_tag_type kExplicitHashKeyIndex = 2;  // Record.explicit_hash_key_index
constexpr protozero::pbf_tag_type kData = 3;                  // Record.data

// Every field number above is below 16, so each field's key (number << 3 | wire type) is one varint byte.
constexpr std::size_t kKeyBytes = 1;

std::size_t VarintBytes(std::uint64_t value) {
  return static_cast<std::size_t>(protozero::length_of_varint(value));
}

// A length-delimited field: key, length, bytes.
std::size_t DelimitedBytes(std::size_t length) {
  return kKeyBytes + VarintBytes(length) + length;
}

using FixedWriter = protozero::basic_pbf_writer<protozero::fixed_size_buffer_adaptor>;

// A Record's head: its key indexes and its data field's length, three varints of at most 10 bytes, and
// their keys.
constexpr std::size_t kMaxRecordHeadBytes = 3 * (kKeyBytes + 10);

std::size_t PutVarint(char* at, std::uint64_t value) {
  return static_cast<std::size_t>(protozero::add_varint_to_buffer(at, value));
}

}  // namespace

Aggregator::Cost Aggregator::Measure(std::string_view partition_key, std::string_view explicit_hash_key,
                                     std::size_t data_bytes) const {
  Cost cost;
  if (auto it = partition_key_index_.find(partition_key); it != partition_key_index_.end()) {
    cost.partition_key_index = it->second;
  } else {
    cost.partition_key_index = static_cast<std::uint32_t>(partition_keys_.size());
    cost.new_partition_key = true;
    cost.bytes += DelimitedBytes(partition_key.size());
  }
  std::size_t message = kKeyBytes + VarintBytes(cost.partition_key_index);
  if (!explicit_hash_key.empty()) {
    if (auto it = explicit_hash_key_index_.find(explicit_hash_key); it != explicit_hash_key_index_.end()) {
      cost.explicit_hash_key_index = it->second;
    } else {
      cost.explicit_hash_key_index = static_cast<std::uint32_t>(explicit_hash_keys_.size());
      cost.new_explicit_hash_key = true;
      cost.bytes += DelimitedBytes(explicit_hash_key.size());
    }
    message += kKeyBytes + VarintBytes(cost.explicit_hash_key_index);
  }
  message += DelimitedBytes(data_bytes + NewlineBytes());
  cost.bytes += DelimitedBytes(message);
  return cost;
}

bool Aggregator::Fits(std::string_view partition_key, std::string_view explicit_hash_key,
                      std::size_t data_bytes) const {
  if (records_.size() >= options_.max_records) return false;
  // Also keeps the sums below from overflowing for absurd sizes.
  if (data_bytes + NewlineBytes() >= options_.max_bytes) return false;
  std::size_t outer_key = empty() ? partition_key.size() : partition_keys_.front().size();
  Cost cost = Measure(partition_key, explicit_hash_key, data_bytes);
  return encoded_bytes() + cost.bytes + outer_key <= options_.max_bytes;
}

void Aggregator::Add(std::string_view partition_key, std::string_view explicit_hash_key,
                     std::string_view data) {
  Cost cost = Measure(partition_key, explicit_hash_key, data.size());
  if (cost.new_partition_key) {
    partition_keys_.push_back(partition_key);
    partition_key_index_.emplace(partition_key, cost.partition_key_index);
  }
  if (cost.new_explicit_hash_key) {
    explicit_hash_keys_.push_back(explicit_hash_key);
    explicit_hash_key_index_.emplace(explicit_hash_key, cost.explicit_hash_key_index);
  }
  records_.push_back(Entry{data, cost.partition_key_index, cost.explicit_hash_key_index});
  protobuf_bytes_ += cost.bytes;
}

std::string_view Aggregator::first_partition_key() const {
  return empty() ? std::string_view() : partition_keys_[records_.front().partition_key_index];
}

std::string_view Aggregator::first_explicit_hash_key() const {
  if (empty() || records_.front().explicit_hash_key_index == kNoIndex) return {};
  return explicit_hash_keys_[records_.front().explicit_hash_key_index];
}

std::string_view Aggregator::first_data() const {
  return empty() ? std::string_view() : records_.front().data;
}

Status Aggregator::Finish(std::span<char> out) const {
  if (out.size() != encoded_bytes()) {
    return Error(ErrorCode::kInternal,
                 fmt::format("KPL aggregate of {} records is {} bytes, not the {} given", records_.size(),
                             encoded_bytes(), out.size()));
  }
  std::memcpy(out.data(), kMagic.data(), kMagic.size());
  char* protobuf = out.data() + kMagicBytes;

  // Field order as protobuf serialisers write it (by field number), which is also what the KPL and
  // aws-kinesis-agg write, so the bytes match theirs. The fixed buffer throws only if the sizes kept by
  // Add were wrong; that is a bug here, reported as a value like every other failure.
  protozero::fixed_size_buffer_adaptor buffer(protobuf, protobuf_bytes_);
  try {
    FixedWriter writer(buffer);
    for (std::string_view key : partition_keys_) {
      writer.add_string(kPartitionKeyTable, key.data(), key.size());
    }
    for (std::string_view key : explicit_hash_keys_) {
      writer.add_string(kExplicitHashKeyTable, key.data(), key.size());
    }
    // Each Record goes out as one bytes field whose length Add already knows: its head from a small
    // buffer, then its data, copied once. (protozero's sized submessage would do the same, but 1.7.1
    // leaves the parent writer marked busy afterwards and trips its own assertion in debug builds.)
    std::array<char, kMaxRecordHeadBytes> head;
    const std::string_view newline("\n", NewlineBytes());
    for (const Entry& r : records_) {
      std::size_t n = 0;
      n += PutVarint(head.data() + n,
                     protozero::tag_and_type(kPartitionKeyIndex, protozero::pbf_wire_type::varint));
      n += PutVarint(head.data() + n, r.partition_key_index);
      if (r.explicit_hash_key_index != kNoIndex) {
        n += PutVarint(head.data() + n,
                       protozero::tag_and_type(kExplicitHashKeyIndex, protozero::pbf_wire_type::varint));
        n += PutVarint(head.data() + n, r.explicit_hash_key_index);
      }
      n += PutVarint(head.data() + n,
                     protozero::tag_and_type(kData, protozero::pbf_wire_type::length_delimited));
      n += PutVarint(head.data() + n, r.data.size() + newline.size());
      writer.add_bytes_vectored(kRecords, std::string_view(head.data(), n), r.data, newline);
    }
  } catch (const std::length_error&) {
    return Error(ErrorCode::kInternal, "KPL aggregate overran its computed size");
  }
  if (buffer.size() != protobuf_bytes_) {
    return Error(ErrorCode::kInternal, fmt::format("KPL aggregate is {} protobuf bytes, computed {}",
                                                   buffer.size(), protobuf_bytes_));
  }

  unsigned int digest_bytes = 0;
  auto* checksum = reinterpret_cast<unsigned char*>(protobuf + protobuf_bytes_);
  if (EVP_Digest(protobuf, protobuf_bytes_, checksum, &digest_bytes, EVP_md5(), nullptr) != 1 ||
      digest_bytes != kChecksumBytes) {
    return Error(ErrorCode::kInternal, "libcrypto refused MD5 for the KPL aggregate checksum (FIPS mode?)");
  }
  return Status::Ok();
}

Status Aggregator::Finish(std::string& out) const {
  std::size_t at = out.size();
  out.resize(at + encoded_bytes());
  Status status = Finish(std::span<char>(out.data() + at, encoded_bytes()));
  if (!status.ok()) out.resize(at);
  return status;
}

void Aggregator::Reset() {
  partition_keys_.clear();
  explicit_hash_keys_.clear();
  partition_key_index_.clear();
  explicit_hash_key_index_.clear();
  records_.clear();
  protobuf_bytes_ = 0;
}

}  // namespace ferry::kinesis
