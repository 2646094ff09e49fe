// PutRecords codec: rapidjson writes the envelope and escapes names and keys; OpenSSL's EVP_EncodeBlock
// writes the base64 straight into the body buffer, so record data is copied once.
#include "agent/kinesis/put_records_codec.h"
#include "agent/aws/json_body.h"

#include <openssl/evp.h>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/writer.h>

#include "agent/aws/json_body.h"

namespace ferry::kinesis {
namespace {

// HasMember + operator[] rather than FindMember: clang rejects rapidjson's member iterator
// comparisons as ambiguous in C++20.
std::string_view StringMember(const rapidjson::Value& object, const char* name) {
  if (!object.HasMember(name) || !object[name].IsString()) return {};
  const auto& value = object[name];
  return {value.GetString(), value.GetStringLength()};
}

}  // namespace

void EncodePutRecords(std::string_view stream, std::span<const WireRecord> records, std::string& out) {
  std::size_t estimate = 64 + stream.size();
  for (const auto& r : records) {
    estimate += 64 + 4 * (r.data.size() + 2) / 3 + r.partition_key.size() + r.explicit_hash_key.size();
  }
  out.reserve(out.size() + estimate);
  aws::StringOut stream_out(out);
  rapidjson::Writer<aws::StringOut> w(stream_out);
  w.StartObject();
  w.Key("StreamName");
  w.String(stream.data(), static_cast<rapidjson::SizeType>(stream.size()));
  w.Key("Records");
  w.StartArray();
  for (const auto& r : records) {
    w.StartObject();
    w.Key("Data");
    // The writer needs a value here; an empty raw value keeps its comma bookkeeping right while the
    // base64 goes straight into the buffer between the quotes.
    w.RawValue("", 0, rapidjson::kStringType);
    out.push_back('"');
    aws::AppendBase64(out, r.data);
    out.push_back('"');
    w.Key("PartitionKey");
    w.String(r.partition_key.data(), static_cast<rapidjson::SizeType>(r.partition_key.size()));
    if (!r.explicit_hash_key.empty()) {
      w.Key("ExplicitHashKey");
      w.String(r.explicit_hash_key.data(), static_cast<rapidjson::SizeType>(r.explicit_hash_key.size()));
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

Result<std::vector<RecordResult>> DecodePutRecordsResponse(std::string_view body, std::size_t count) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(),
                                            body.size());  // iterative: deep nesting cannot exhaust the stack
  if (doc.HasParseError()) {
    return Error(ErrorCode::kProtocol,
                 fmt::format("PutRecords response is not JSON: {} at byte {}",
                             rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Error(ErrorCode::kProtocol, "PutRecords response is not a JSON object");
  if (!doc.HasMember("Records") || !doc["Records"].IsArray()) {
    return Error(ErrorCode::kProtocol, "PutRecords response has no Records list");
  }
  const auto& list = doc["Records"];
  if (list.Size() != count) {
    return Error(ErrorCode::kProtocol,
                 fmt::format("PutRecords response has {} results for {} records", list.Size(), count));
  }
  std::vector<RecordResult> out(count);
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    if (!list[i].IsObject()) return Error(ErrorCode::kProtocol, "PutRecords result is not an object");
    std::string_view code = StringMember(list[i], "ErrorCode");
    if (code.empty() && StringMember(list[i], "SequenceNumber").empty()) {
      return Error(ErrorCode::kProtocol,
                   fmt::format("PutRecords result {} has neither SequenceNumber nor ErrorCode", i));
    }
    out[i].error_code = code;
    out[i].error_message = StringMember(list[i], "ErrorMessage");
    out[i].shard_id = StringMember(list[i], "ShardId");
  }
  return out;
}

ServiceError DecodeServiceError(int status, std::string_view body) {
  ServiceError out;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(),
                                            body.size());  // iterative: deep nesting cannot exhaust the stack
  if (!doc.HasParseError() && doc.IsObject()) {
    std::string_view type = StringMember(doc, "__type");
    if (auto hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
    out.type = type;
    out.message = StringMember(doc, "message");
    if (out.message.empty()) out.message = StringMember(doc, "Message");
  }
  if (out.type.empty()) out.type = fmt::format("HTTP {}", status);
  return out;
}

}  // namespace ferry::kinesis
