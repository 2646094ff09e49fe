// ListShards codec: rapidjson both ways, as for PutRecords. Responses are small (a few hundred bytes
// per shard), so the DOM parser's copy costs nothing worth avoiding.
#include "agent/kinesis/list_shards_codec.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "agent/core/peer_text.h"

namespace ferry::kinesis {
namespace {

// Shard ids go into error messages; the API caps them at 128 characters, a hostile peer does not.
constexpr std::size_t kQuoteBytes = 128;

std::string EncodeOneString(const char* name, std::string_view value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key(name);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// HasMember + operator[] rather than FindMember: clang rejects rapidjson's member iterator
// comparisons as ambiguous in C++20 (see put_records_codec.cpp).
const rapidjson::Value* Member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name)) return nullptr;
  return &object[name];
}

std::string_view View(const rapidjson::Value& string) {
  return {string.GetString(), string.GetStringLength()};
}

Error ShardError(rapidjson::SizeType index, std::string_view id, std::string_view what) {
  if (id.empty())
    return Error(ErrorCode::kProtocol, fmt::format("ListShards response: shard {}: {}", index, what));
  return Error(ErrorCode::kProtocol, fmt::format("ListShards response: shard {} ({}): {}", index,
                                                 QuotePeerText(id, kQuoteBytes), what));
}

Result<HashKey> ReadHashKey(const rapidjson::Value& range, const char* name, rapidjson::SizeType index,
                            std::string_view id) {
  const rapidjson::Value* v = Member(range, name);
  if (v == nullptr || !v->IsString()) {
    return ShardError(index, id, fmt::format("HashKeyRange.{} is missing or not a string", name));
  }
  auto key = ParseHashKey(View(*v));
  if (!key) return ShardError(index, id, fmt::format("HashKeyRange.{}: {}", name, key.error().message()));
  return key;
}

Result<Shard> ReadShard(const rapidjson::Value& item, rapidjson::SizeType index) {
  if (!item.IsObject()) return ShardError(index, {}, "not a JSON object");
  const rapidjson::Value* id = Member(item, "ShardId");
  if (id == nullptr || !id->IsString() || id->GetStringLength() == 0) {
    return ShardError(index, {}, "ShardId is missing, empty or not a string");
  }
  Shard shard;
  shard.id = View(*id);

  const rapidjson::Value* range = Member(item, "HashKeyRange");
  if (range == nullptr || !range->IsObject()) return ShardError(index, shard.id, "HashKeyRange is missing");
  auto start = ReadHashKey(*range, "StartingHashKey", index, shard.id);
  if (!start) return start.error();
  auto end = ReadHashKey(*range, "EndingHashKey", index, shard.id);
  if (!end) return end.error();
  shard.start = *start;
  shard.end = *end;

  // Open unless the range names an end. A missing SequenceNumberRange (the API always sends one) is
  // read as open: ShardMap::Build still rejects a listing whose open shards do not fit together.
  if (const rapidjson::Value* seq = Member(item, "SequenceNumberRange")) {
    if (!seq->IsObject()) return ShardError(index, shard.id, "SequenceNumberRange is not a JSON object");
    const rapidjson::Value* ending = Member(*seq, "EndingSequenceNumber");
    if (ending != nullptr && !ending->IsNull()) {
      if (!ending->IsString()) {
        return ShardError(index, shard.id, "SequenceNumberRange.EndingSequenceNumber is not a string");
      }
      shard.open = false;
    }
  }
  return shard;
}

}  // namespace

std::string EncodeListShardsFirst(std::string_view stream) {
  return EncodeOneString("StreamName", stream);
}

std::string EncodeListShardsNext(std::string_view next_token) {
  return EncodeOneString("NextToken", next_token);
}

Result<ListShardsPage> DecodeListShardsResponse(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(),
                                            body.size());  // iterative: deep nesting cannot exhaust the stack
  if (doc.HasParseError()) {
    return Error(ErrorCode::kProtocol,
                 fmt::format("ListShards response is not JSON: {} at byte {}",
                             rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Error(ErrorCode::kProtocol, "ListShards response is not a JSON object");
  const rapidjson::Value* list = Member(doc, "Shards");
  if (list == nullptr || !list->IsArray())
    return Error(ErrorCode::kProtocol, "ListShards response has no Shards list");

  ListShardsPage page;
  page.shards.reserve(list->Size());
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    auto shard = ReadShard((*list)[i], i);
    if (!shard) return shard.error();
    page.shards.push_back(std::move(*shard));
  }
  if (const rapidjson::Value* token = Member(doc, "NextToken"); token != nullptr && !token->IsNull()) {
    if (!token->IsString())
      return Error(ErrorCode::kProtocol, "ListShards response: NextToken is not a string");
    page.next_token = View(*token);
  }
  return page;
}

}  // namespace ferry::kinesis
