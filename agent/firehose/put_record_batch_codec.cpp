// PutRecordBatch codec: rapidjson writes the envelope and escapes the stream name; OpenSSL's
// EVP_EncodeBlock writes the base64 straight into the body buffer, so record data is copied once.
// Responses are parsed iteratively, so a hostile body of deeply nested brackets cannot exhaust the stack.
#include "agent/firehose/put_record_batch_codec.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/writer.h>

#include "agent/aws/json_body.h"

namespace ferry::firehose {
namespace {

// How a member of a response object reads: absent (or JSON null, which some serialisers write for an
// absent field), a string, or something else, which makes the body not a PutRecordBatch response.
enum class Field { kAbsent, kString, kWrongType };

// HasMember + operator[] rather than FindMember: clang rejects rapidjson's member iterator comparisons as
// ambiguous in C++20.
Field StringField(const rapidjson::Value& object, const char* name, std::string_view& out) {
  out = {};
  if (!object.HasMember(name) || object[name].IsNull()) return Field::kAbsent;
  const auto& value = object[name];
  if (!value.IsString()) return Field::kWrongType;
  out = {value.GetString(), value.GetStringLength()};
  return Field::kString;
}

Error Protocol(std::string message) {
  return Error(ErrorCode::kProtocol, "PutRecordBatch " + message);
}

}  // namespace

void EncodePutRecordBatch(std::string_view delivery_stream, std::span<const WireRecord> records,
                          std::string& out) {
  std::size_t estimate = 64 + delivery_stream.size();
  for (const auto& r : records) estimate += 12 + aws::Base64Size(r.data.size());
  out.reserve(out.size() + estimate);
  aws::StringOut stream_out(out);
  rapidjson::Writer<aws::StringOut> w(stream_out);
  w.StartObject();
  w.Key("DeliveryStreamName");
  w.String(delivery_stream.data(), static_cast<rapidjson::SizeType>(delivery_stream.size()));
  w.Key("Records");
  w.StartArray();
  for (const auto& r : records) {
    w.StartObject();
    w.Key("Data");
    // The writer needs a value here; an empty raw value keeps its comma bookkeeping right while the base64
    // goes straight into the buffer between the quotes.
    w.RawValue("", 0, rapidjson::kStringType);
    out.push_back('"');
    aws::AppendBase64(out, r.data);
    out.push_back('"');
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

Result<std::vector<RecordResult>> DecodePutRecordBatchResponse(std::string_view body, std::size_t count) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    return Protocol(fmt::format("response is not JSON: {} at byte {}",
                                rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Protocol("response is not a JSON object");
  // Fields we do not act on are still checked for their type: a FailedPutCount that is not a count means
  // the body came from something other than Firehose (a proxy, a stub), and its verdicts are not to be
  // trusted.
  if (doc.HasMember("FailedPutCount") && !doc["FailedPutCount"].IsNull() && !doc["FailedPutCount"].IsUint()) {
    return Protocol("response has a FailedPutCount that is not a non-negative integer");
  }
  if (doc.HasMember("Encrypted") && !doc["Encrypted"].IsNull() && !doc["Encrypted"].IsBool()) {
    return Protocol("response has an Encrypted that is not a boolean");
  }
  if (!doc.HasMember("RequestResponses") || !doc["RequestResponses"].IsArray()) {
    return Protocol("response has no RequestResponses list");
  }
  const auto& list = doc["RequestResponses"];
  if (list.Size() != count) {
    return Protocol(fmt::format("response has {} results for {} records", list.Size(), count));
  }
  std::vector<RecordResult> out(count);
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    const auto& entry = list[i];
    if (!entry.IsObject()) return Protocol(fmt::format("result {} is not an object", i));
    std::string_view record_id, code, message;
    Field id_field = StringField(entry, "RecordId", record_id);
    Field code_field = StringField(entry, "ErrorCode", code);
    Field message_field = StringField(entry, "ErrorMessage", message);
    if (id_field == Field::kWrongType || code_field == Field::kWrongType ||
        message_field == Field::kWrongType) {
      return Protocol(
          fmt::format("result {} has a RecordId, ErrorCode or ErrorMessage that is not a string", i));
    }
    // An ErrorCode wins over a RecordId: retrying a stored record costs a duplicate, trusting a failed one
    // loses it.
    if (code.empty() && record_id.empty()) {
      return Protocol(fmt::format("result {} has neither RecordId nor ErrorCode", i));
    }
    out[i].error_code = code;
    out[i].error_message = message;
  }
  return out;
}

ServiceError DecodeServiceError(int status, std::string_view body) {
  ServiceError out;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    std::string_view type, message;
    StringField(doc, "__type", type);
    if (auto hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
    out.type = type;
    // Firehose writes "message"; some AWS front ends write "Message".
    if (StringField(doc, "message", message) != Field::kString) StringField(doc, "Message", message);
    out.message = message;
  }
  if (out.type.empty()) out.type = fmt::format("HTTP {}", status);
  return out;
}

}  // namespace ferry::firehose
