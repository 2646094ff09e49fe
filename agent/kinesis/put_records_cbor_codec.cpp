// PutRecords CBOR codec: libcbor's cbor_encode_* write the item heads and record bytes are appended after
// them, so data is copied once. Responses are read one item head at a time with cbor_stream_decode and
// never built into a tree: a hostile body costs time linear in its size, a fixed stack and no memory
// beyond the strings kept.
#include "agent/kinesis/put_records_cbor_codec.h"

#include <cbor.h>
#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <span>

namespace ferry::kinesis {
namespace {

// ---- Encoding

using HeadEncoder = std::size_t (*)(std::size_t, unsigned char*, std::size_t);

void AppendHead(std::string& out, HeadEncoder encode, std::size_t value) {
  std::array<unsigned char, 9> head{};  // the longest head: initial byte and a 64-bit argument
  std::size_t n = encode(value, head.data(), head.size());
  out.append(reinterpret_cast<const char*>(head.data()), n);
}

void AppendText(std::string& out, std::string_view text) {
  AppendHead(out, cbor_encode_string_start, text.size());
  out.append(text);
}

void AppendBytes(std::string& out, std::string_view bytes) {
  AppendHead(out, cbor_encode_bytestring_start, bytes.size());
  out.append(bytes);
}

// ---- Decoding

// Deepest nesting followed inside a value that is skipped; a PutRecords answer needs none.
constexpr std::size_t kMaxSkipDepth = 32;

enum class Kind { kNone, kScalar, kBytes, kText, kBytesStart, kTextStart, kArray, kMap, kTag, kBreak };

// One item head as cbor_stream_decode reports it through the callbacks below.
struct Head {
  Kind kind = Kind::kNone;
  bool indefinite = false;   // kArray, kMap
  std::uint64_t size = 0;    // kArray: items; kMap: pairs
  std::string_view chunk{};  // kBytes, kText: the bytes, inside the body
};

Head& HeadOf(void* context) {
  return *static_cast<Head*>(context);
}

template <typename T>
void OnNumber(void* context, T) {
  HeadOf(context).kind = Kind::kScalar;
}
void OnSimple(void* context) {
  HeadOf(context).kind = Kind::kScalar;
}
void OnBytes(void* context, cbor_data data, std::size_t size) {
  HeadOf(context) = Head{Kind::kBytes, false, 0, {reinterpret_cast<const char*>(data), size}};
}
void OnText(void* context, cbor_data data, std::size_t size) {
  HeadOf(context) = Head{Kind::kText, false, 0, {reinterpret_cast<const char*>(data), size}};
}
void OnBytesStart(void* context) {
  HeadOf(context).kind = Kind::kBytesStart;
}
void OnTextStart(void* context) {
  HeadOf(context).kind = Kind::kTextStart;
}
void OnArray(void* context, std::size_t size) {
  HeadOf(context) = Head{Kind::kArray, false, size, {}};
}
void OnIndefiniteArray(void* context) {
  HeadOf(context) = Head{Kind::kArray, true, 0, {}};
}
void OnMap(void* context, std::size_t size) {
  HeadOf(context) = Head{Kind::kMap, false, size, {}};
}
void OnIndefiniteMap(void* context) {
  HeadOf(context) = Head{Kind::kMap, true, 0, {}};
}
void OnTag(void* context, std::uint64_t) {
  HeadOf(context).kind = Kind::kTag;
}
void OnBreak(void* context) {
  HeadOf(context).kind = Kind::kBreak;
}

// Every member set: libcbor calls them without checking for null.
constexpr cbor_callbacks kCallbacks = {
    .uint8 = OnNumber<std::uint8_t>,
    .uint16 = OnNumber<std::uint16_t>,
    .uint32 = OnNumber<std::uint32_t>,
    .uint64 = OnNumber<std::uint64_t>,
    .negint64 = OnNumber<std::uint64_t>,
    .negint32 = OnNumber<std::uint32_t>,
    .negint16 = OnNumber<std::uint16_t>,
    .negint8 = OnNumber<std::uint8_t>,
    .byte_string_start = OnBytesStart,
    .byte_string = OnBytes,
    .string = OnText,
    .string_start = OnTextStart,
    .indef_array_start = OnIndefiniteArray,
    .array_start = OnArray,
    .indef_map_start = OnIndefiniteMap,
    .map_start = OnMap,
    .tag = OnTag,
    .float2 = OnNumber<float>,
    .float4 = OnNumber<float>,
    .float8 = OnNumber<double>,
    .undefined = OnSimple,
    .null = OnSimple,
    .boolean = OnNumber<bool>,
    .indef_break = OnBreak,
};

// Walks a body head by head. libcbor checks each head against the bytes left; the Reader checks what it
// cannot see: where breaks may stand, what an indefinite-length string's chunks are, how deep skipped
// values go, and that one item fills the body. The first failure sticks, with the offset of its head.
class Reader {
 public:
  explicit Reader(std::string_view body) : body_(body) {}

  const std::string& reason() const { return reason_; }
  std::size_t offset() const { return at_; }

  bool Fail(std::string_view reason) {
    if (reason_.empty()) reason_ = reason;
    return false;
  }

  // The next head, tags passed over: they only qualify the item after them.
  bool Next(Head& head) {
    if (!NextHead(head)) return false;
    while (head.kind == Kind::kTag) {
      if (!NextHead(head)) return false;
      if (head.kind == Kind::kBreak) return Fail("break after a tag");
    }
    return true;
  }

  // The next head where an item must stand (a break is not one).
  bool NextItem(Head& head) {
    return Next(head) && (head.kind != Kind::kBreak || Fail("break outside an indefinite-length item"));
  }

  // Reads the item that `head` starts: a text string's bytes replace `text` and is_text is set; any other
  // item is skipped and `text` left alone.
  bool ReadText(const Head& head, std::string& text, bool& is_text) {
    is_text = head.kind == Kind::kText || head.kind == Kind::kTextStart;
    if (head.kind == Kind::kText) {
      text.assign(head.chunk);
      return true;
    }
    if (head.kind == Kind::kTextStart) {
      text.clear();
      return ReadChunks(Kind::kText, &text);
    }
    return Skip(head);
  }

  // Skips the rest of the item that `head` starts, iteratively.
  bool Skip(const Head& first) {
    struct Open {
      std::uint64_t left = 0;  // definite: items still to come
      std::uint64_t seen = 0;  // indefinite: items so far (a map's must be even at its break)
      bool indefinite = false;
      bool map = false;
    };
    std::array<Open, kMaxSkipDepth> open{};
    std::size_t depth = 0;
    Head head = first;
    for (;;) {
      if (head.kind == Kind::kBreak) {
        if (depth == 0 || !open[depth - 1].indefinite) return Fail("break outside an indefinite-length item");
        if (open[depth - 1].map && open[depth - 1].seen % 2 != 0) return Fail("map key without a value");
        --depth;
      } else if (head.kind == Kind::kArray || head.kind == Kind::kMap) {
        bool map = head.kind == Kind::kMap;
        std::uint64_t items = map ? 2 * head.size : head.size;  // no overflow: NextHead bounds size
        if (head.indefinite || items > 0) {
          if (depth == kMaxSkipDepth) return Fail("nested too deeply");
          open[depth++] = Open{items, 0, head.indefinite, map};
          if (!Next(head)) return false;
          continue;
        }
      } else if (head.kind == Kind::kBytesStart || head.kind == Kind::kTextStart) {
        if (!ReadChunks(head.kind == Kind::kBytesStart ? Kind::kBytes : Kind::kText, nullptr)) return false;
      }
      // One item complete: count it in its container, closing the definite containers it fills.
      while (depth > 0) {
        Open& o = open[depth - 1];
        if (o.indefinite) {
          ++o.seen;
          break;
        }
        if (--o.left > 0) break;
        --depth;
      }
      if (depth == 0) return true;
      if (!Next(head)) return false;
    }
  }

  // After the one top-level item: nothing may follow it.
  bool Finish() {
    if (!reason_.empty()) return false;
    at_ = pos_;
    return pos_ == body_.size() || Fail("bytes after the item");
  }

 private:
  bool NextHead(Head& head) {
    if (!reason_.empty()) return false;
    at_ = pos_;
    head = Head{};
    std::size_t left = body_.size() - pos_;
    if (left == 0) return Fail("unexpected end");
    cbor_decoder_result r =
        cbor_stream_decode(reinterpret_cast<cbor_data>(body_.data()) + pos_, left, &kCallbacks, &head);
    if (r.status == CBOR_DECODER_NEDATA) return Fail("unexpected end");
    if (r.status != CBOR_DECODER_FINISHED || head.kind == Kind::kNone || r.read == 0 || r.read > left) {
      // Besides malformed heads, libcbor 0.8 refuses some well-formed ones: one-byte tags 6 to 20 and
      // simple values other than false, true, null and undefined. No AWS answer uses them.
      return Fail("malformed or unsupported item");
    }
    pos_ += r.read;
    // Each item takes at least a byte, so a longer count cannot be honest; this also keeps 2 * size small.
    if ((head.kind == Kind::kArray || head.kind == Kind::kMap) && !head.indefinite &&
        head.size > body_.size() - pos_) {
      return Fail("unexpected end");
    }
    return true;
  }

  // The chunks of an indefinite-length string up to its break; each a definite string of the same type.
  bool ReadChunks(Kind chunk, std::string* out) {
    for (;;) {
      Head head;
      if (!NextHead(head)) return false;
      if (head.kind == Kind::kBreak) return true;
      if (head.kind != chunk) return Fail("indefinite-length string with a chunk of another kind");
      if (out != nullptr) out->append(head.chunk);
    }
  }

  std::string_view body_;
  std::size_t pos_ = 0;
  std::size_t at_ = 0;  // where the last head read starts
  std::string reason_;
};

// The entries of an array or the keys of a map, whichever length encoding it uses.
class Entries {
 public:
  Entries(Reader& reader, const Head& container)
      : reader_(reader), indefinite_(container.indefinite), left_(container.size) {}

  // The first head of the next entry; done at the end.
  bool Next(Head& head, bool& done) {
    done = false;
    if (indefinite_) {
      if (!reader_.Next(head)) return false;
      done = head.kind == Kind::kBreak;
      return true;
    }
    if (left_ == 0) {
      done = true;
      return true;
    }
    --left_;
    return reader_.NextItem(head);
  }

 private:
  Reader& reader_;
  bool indefinite_ = false;
  std::uint64_t left_ = 0;
};

// Calls on_member(name, value head) for each text-keyed member of `map`; it must read or skip the value.
// Members with other keys are skipped.
template <typename OnMember>
bool ForEachMember(Reader& reader, const Head& map, OnMember on_member) {
  Entries members(reader, map);
  for (;;) {
    Head key;
    bool done = false;
    if (!members.Next(key, done)) return false;
    if (done) return true;
    std::string name;
    bool is_text = false;
    if (!reader.ReadText(key, name, is_text)) return false;
    Head value;
    if (!reader.NextItem(value)) return false;
    if (!(is_text ? on_member(name, value) : reader.Skip(value))) return false;
  }
}

// A text member a decoder wants. The first member of a name counts, as rapidjson's lookup finds the first;
// a value that is not text reads as empty, as the JSON codec's StringMember has it.
struct Field {
  std::string_view name;
  std::string* value = nullptr;
  bool seen = false;
};

bool ReadFields(Reader& reader, const Head& map, std::span<Field> fields) {
  return ForEachMember(reader, map, [&](const std::string& name, const Head& value) {
    for (Field& field : fields) {
      if (field.name != name || field.seen) continue;
      field.seen = true;
      bool is_text = false;
      if (!reader.ReadText(value, *field.value, is_text)) return false;
      if (!is_text) field.value->clear();
      return true;
    }
    return reader.Skip(value);
  });
}

// What a response said. Its faults are judged once the whole body is known to be well-formed CBOR, in
// the order the JSON codec finds them.
struct Scan {
  bool is_map = false;
  bool has_records = false;  // the first Records member is an array
  std::size_t results = 0;
  std::string result_error;  // the first result that is not usable
  std::vector<RecordResult> out;
};

bool ScanResult(Reader& reader, const Head& item, std::size_t index, Scan& scan) {
  RecordResult& result = scan.out[index];
  std::string sequence;
  std::array<Field, 4> fields = {{{"ErrorCode", &result.error_code},
                                  {"ErrorMessage", &result.error_message},
                                  {"ShardId", &result.shard_id},
                                  {"SequenceNumber", &sequence}}};
  if (!ReadFields(reader, item, fields)) return false;
  if (result.error_code.empty() && sequence.empty() && scan.result_error.empty()) {
    scan.result_error = fmt::format("PutRecords result {} has neither SequenceNumber nor ErrorCode", index);
  }
  return true;
}

bool ScanResults(Reader& reader, const Head& list, std::size_t count, Scan& scan) {
  Entries items(reader, list);
  for (;;) {
    Head item;
    bool done = false;
    if (!items.Next(item, done)) return false;
    if (done) return true;
    std::size_t index = scan.results++;
    if (index < count && item.kind == Kind::kMap) {
      if (!ScanResult(reader, item, index, scan)) return false;
      continue;
    }
    // Past the count the answer is wrong already; only its well-formedness is left to check.
    if (index < count && scan.result_error.empty()) scan.result_error = "PutRecords result is not a map";
    if (!reader.Skip(item)) return false;
  }
}

bool ScanResponse(Reader& reader, std::size_t count, Scan& scan) {
  Head top;
  if (!reader.Next(top)) return false;
  if (top.kind != Kind::kMap) return reader.Skip(top);
  scan.is_map = true;
  bool records_seen = false;
  return ForEachMember(reader, top, [&](const std::string& name, const Head& value) {
    if (name != "Records" || records_seen) return reader.Skip(value);
    records_seen = true;
    if (value.kind != Kind::kArray) return reader.Skip(value);
    scan.has_records = true;
    return ScanResults(reader, value, count, scan);
  });
}

}  // namespace

void EncodePutRecordsCbor(std::string_view stream, std::span<const WireRecord> records, std::string& out) {
  std::size_t estimate = 32 + stream.size();
  for (const auto& r : records) {
    estimate += 64 + r.data.size() + r.partition_key.size() + r.explicit_hash_key.size();
  }
  out.reserve(out.size() + estimate);
  AppendHead(out, cbor_encode_map_start, 2);
  AppendText(out, "StreamName");
  AppendText(out, stream);
  AppendText(out, "Records");
  AppendHead(out, cbor_encode_array_start, records.size());
  for (const auto& r : records) {
    bool hash_key = !r.explicit_hash_key.empty();
    AppendHead(out, cbor_encode_map_start, hash_key ? 3 : 2);
    AppendText(out, "Data");
    AppendBytes(out, r.data);
    AppendText(out, "PartitionKey");
    AppendText(out, r.partition_key);
    if (hash_key) {
      AppendText(out, "ExplicitHashKey");
      AppendText(out, r.explicit_hash_key);
    }
  }
}

Result<std::vector<RecordResult>> DecodePutRecordsCborResponse(std::string_view body, std::size_t count) {
  Reader reader(body);
  Scan scan;
  scan.out.resize(count);
  if (!ScanResponse(reader, count, scan) || !reader.Finish()) {
    return Error(ErrorCode::kProtocol, fmt::format("PutRecords response is not CBOR: {} at byte {}",
                                                   reader.reason(), reader.offset()));
  }
  if (!scan.is_map) return Error(ErrorCode::kProtocol, "PutRecords response is not a CBOR map");
  if (!scan.has_records) return Error(ErrorCode::kProtocol, "PutRecords response has no Records list");
  if (scan.results != count) {
    return Error(ErrorCode::kProtocol,
                 fmt::format("PutRecords response has {} results for {} records", scan.results, count));
  }
  if (!scan.result_error.empty()) return Error(ErrorCode::kProtocol, std::move(scan.result_error));
  return std::move(scan.out);
}

ServiceError DecodeCborServiceError(int status, std::string_view body) {
  Reader reader(body);
  Head top;
  if (!reader.Next(top) || top.kind != Kind::kMap) return DecodeServiceError(status, body);
  std::string type, message, upper_message;
  std::array<Field, 3> fields = {{{"__type", &type}, {"message", &message}, {"Message", &upper_message}}};
  bool ok = ReadFields(reader, top, fields);
  if (!ok || !reader.Finish()) return DecodeServiceError(status, body);  // not CBOR: maybe JSON
  ServiceError out;
  std::string_view short_type = type;
  if (auto hash = short_type.rfind('#'); hash != std::string_view::npos) short_type.remove_prefix(hash + 1);
  out.type = short_type;
  out.message = message.empty() ? std::move(upper_message) : std::move(message);
  if (out.type.empty()) out.type = fmt::format("HTTP {}", status);
  return out;
}

}  // namespace ferry::kinesis
