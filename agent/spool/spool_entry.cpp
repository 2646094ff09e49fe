// Spool entry codec: varint framing of the records, liblz4's block API for the body. The body is stored
// uncompressed when LZ4 would not make it smaller (already-compressed data), which also bounds an
// entry at raw size plus a few header bytes.
#include "agent/spool/spool_entry.h"

#include <lz4.h>

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace ferry::spool {
namespace {

// LZ4 turns each input byte into at most 255 output bytes (a match-length byte of 255); allow a little
// for the smallest blocks. A declared size beyond this cannot come from the body that follows.
constexpr std::uint64_t kLz4MaxRatio = 255;
constexpr std::uint64_t kLz4Slack = 64;
constexpr std::size_t kMaxVarintBytes = 10;
constexpr std::size_t kMinRecordBytes = 4;  // three empty fields and a one-byte user_records

std::size_t VarintSize(std::uint64_t v) {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

void PutVarint(std::uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

Error Corrupt(std::string_view what) {
  return Error(ErrorCode::kProtocol, fmt::format("spool entry: {}", what));
}

// Reads from a byte range, every read checked against what remains.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : rest_(bytes) {}

  std::size_t left() const { return rest_.size(); }
  std::string_view rest() const { return rest_; }

  bool Byte(std::uint8_t* out) {
    if (rest_.empty()) return false;
    *out = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return true;
  }

  // False if truncated or longer than 64 bits.
  bool Varint(std::uint64_t* out) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < kMaxVarintBytes && i < rest_.size(); ++i) {
      auto b = static_cast<std::uint8_t>(rest_[i]);
      if (i == kMaxVarintBytes - 1 && b > 1) return false;  // bits past the 64th
      v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        rest_.remove_prefix(i + 1);
        *out = v;
        return true;
      }
    }
    return false;
  }

  bool Bytes(std::uint64_t n, std::string_view* out) {
    if (n > rest_.size()) return false;
    *out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view rest_;
};

template <typename R>
Result<std::string> Encode(std::span<const R> records) {
  std::uint64_t raw_size = 0;
  for (const R& r : records) {
    raw_size += VarintSize(r.data.size()) + r.data.size() + VarintSize(r.partition_key.size()) +
                r.partition_key.size() + VarintSize(r.explicit_hash_key.size()) + r.explicit_hash_key.size() +
                VarintSize(r.user_records);
  }
  if (raw_size > kMaxSpoolEntryRawBytes) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("spool entry: {} records take {} bytes, more than the {} an entry may hold",
                             records.size(), raw_size, kMaxSpoolEntryRawBytes));
  }
  std::string raw;
  raw.reserve(raw_size);
  for (const R& r : records) {
    PutVarint(r.data.size(), &raw);
    raw.append(r.data);
    PutVarint(r.partition_key.size(), &raw);
    raw.append(r.partition_key);
    PutVarint(r.explicit_hash_key.size(), &raw);
    raw.append(r.explicit_hash_key);
    PutVarint(r.user_records, &raw);
  }
  std::string out;
  out.push_back(static_cast<char>(kSpoolEntryVersion));
  out.push_back(static_cast<char>(kSpoolEntryLz4));
  PutVarint(records.size(), &out);
  PutVarint(raw.size(), &out);
  const std::size_t header = out.size();
  const int raw_int = static_cast<int>(raw.size());  // at most kMaxSpoolEntryRawBytes
  out.resize(header + static_cast<std::size_t>(LZ4_compressBound(raw_int)));
  int packed =
      LZ4_compress_default(raw.data(), out.data() + header, raw_int, static_cast<int>(out.size() - header));
  if (packed > 0 && packed < raw_int) {
    out.resize(header + static_cast<std::size_t>(packed));
  } else {
    // Does not compress (or LZ4 failed, which it cannot with a bound-sized buffer): store it as it is.
    out.resize(header);
    out[1] = 0;
    out.append(raw);
  }
  return out;
}

Result<SpoolRecord> DecodeRecord(Cursor& in, std::uint64_t index) {
  SpoolRecord record;
  std::string* fields[] = {&record.data, &record.partition_key, &record.explicit_hash_key};
  static constexpr const char* kNames[] = {"data", "partition key", "explicit hash key"};
  for (std::size_t f = 0; f < 3; ++f) {
    std::uint64_t length = 0;
    if (!in.Varint(&length))
      return Corrupt(fmt::format("record {}: {} length is truncated or too long", index, kNames[f]));
    std::string_view bytes;
    if (!in.Bytes(length, &bytes)) {
      return Corrupt(fmt::format("record {}: {} of {} bytes, but only {} are left", index, kNames[f], length,
                                 in.left()));
    }
    fields[f]->assign(bytes);
  }
  std::uint64_t user_records = 0;
  if (!in.Varint(&user_records)) return Corrupt(fmt::format("record {}: user_records is truncated", index));
  if (user_records > std::numeric_limits<std::uint32_t>::max()) {
    return Corrupt(fmt::format("record {}: user_records {} is more than 32 bits", index, user_records));
  }
  record.user_records = static_cast<std::uint32_t>(user_records);
  return record;
}

}  // namespace

Result<std::string> EncodeSpoolEntry(std::span<const WireRecord> records) {
  return Encode(records);
}

Result<std::string> EncodeSpoolEntry(std::span<const SpoolRecord> records) {
  return Encode(records);
}

Result<std::vector<SpoolRecord>> DecodeSpoolEntry(std::string_view bytes) {
  Cursor in(bytes);
  std::uint8_t version = 0;
  std::uint8_t flags = 0;
  if (!in.Byte(&version)) return Corrupt("empty");
  if (version != kSpoolEntryVersion) {
    return Corrupt(fmt::format("version {} is not supported (this ferry reads version {})", version,
                               kSpoolEntryVersion));
  }
  if (!in.Byte(&flags)) return Corrupt("truncated before its flags");
  if ((flags & ~kSpoolEntryLz4) != 0) return Corrupt(fmt::format("unknown flags 0x{:02x}", flags));
  std::uint64_t count = 0;
  std::uint64_t raw_size = 0;
  if (!in.Varint(&count)) return Corrupt("record count is truncated or too long");
  if (!in.Varint(&raw_size)) return Corrupt("size is truncated or too long");
  if (raw_size > kMaxSpoolEntryRawBytes) {
    return Corrupt(fmt::format("declared size {} is more than the {} an entry may hold", raw_size,
                               kMaxSpoolEntryRawBytes));
  }
  if (count > raw_size / kMinRecordBytes) {
    return Corrupt(fmt::format("{} records cannot fit in {} bytes", count, raw_size));
  }

  std::string_view body = in.rest();
  std::string raw_buffer;
  std::string_view raw;
  if ((flags & kSpoolEntryLz4) != 0) {
    // Checked before allocating raw_size bytes, so a short hostile entry cannot make us allocate 16 MiB.
    if (body.size() > static_cast<std::size_t>(LZ4_compressBound(kMaxSpoolEntryRawBytes))) {
      return Corrupt(fmt::format("{} compressed bytes are more than any entry needs", body.size()));
    }
    if (raw_size > body.size() * kLz4MaxRatio + kLz4Slack) {
      return Corrupt(
          fmt::format("declared size {} is more than {} compressed bytes can hold", raw_size, body.size()));
    }
    // Both sizes are bounded above, far below INT_MAX.
    raw_buffer.resize(raw_size);
    int got = LZ4_decompress_safe(body.data(), raw_buffer.data(), static_cast<int>(body.size()),
                                  static_cast<int>(raw_size));
    if (got < 0) return Corrupt(fmt::format("the LZ4 block of {} bytes is corrupt", body.size()));
    if (static_cast<std::uint64_t>(got) != raw_size) {
      return Corrupt(fmt::format("the LZ4 block holds {} bytes, not the declared {}", got, raw_size));
    }
    raw = raw_buffer;
  } else {
    if (body.size() != raw_size) {
      return Corrupt(fmt::format("{} bytes of records, not the declared {}", body.size(), raw_size));
    }
    raw = body;
  }

  Cursor records_in(raw);
  std::vector<SpoolRecord> records;
  records.reserve(std::min<std::uint64_t>(count, 1024));  // the count is checked only as records parse
  for (std::uint64_t i = 0; i < count; ++i) {
    auto record = DecodeRecord(records_in, i);
    if (!record.ok()) return record.error();
    records.push_back(std::move(*record));
  }
  if (records_in.left() != 0) {
    return Corrupt(fmt::format("{} bytes left over after {} records", records_in.left(), count));
  }
  return records;
}

}  // namespace ferry::spool
