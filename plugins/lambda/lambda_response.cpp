// LambdaResponse: RapidJSON's DOM over the line (iterative parsing, so no nesting can exhaust the stack),
// then one pass over `records`.
#include "plugins/lambda/lambda_response.h"

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>

#include <fmt/format.h>

#include "plugins/lambda/base64_decode.h"

namespace ferry::plugins {
namespace {

using Value = rapidjson::Value;

constexpr std::size_t kMaxQuoted = 80;  // of a function's text quoted in a reason

std::string_view Text(const Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// A function's text in a message: cut, and at most one line (the log escapes the rest).
std::string Quoted(std::string_view text) {
  if (text.size() <= kMaxQuoted) return std::string(text);
  return std::string(text.substr(0, kMaxQuoted)) + "...";
}

const Value* Member(const Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string StringMember(const Value& object, const char* name) {
  const Value* v = Member(object, name);
  return v != nullptr && v->IsString() ? std::string(Text(*v)) : std::string();
}

// The request position a recordId names, or request_records when it names none.
std::size_t Position(std::string_view id, std::size_t request_records) {
  if (id.empty() || id.size() > 10 || (id.size() > 1 && id[0] == '0')) return request_records;
  std::size_t n = 0;
  for (char c : id) {
    if (c < '0' || c > '9') return request_records;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n < request_records ? n : request_records;
}

// One trailing "\n" or "\r\n" off the record's bytes.
std::size_t WithoutNewline(std::string_view bytes) {
  if (bytes.ends_with("\r\n")) return bytes.size() - 2;
  if (bytes.ends_with('\n')) return bytes.size() - 1;
  return bytes.size();
}

}  // namespace

Result<LambdaResponse> ParseLambdaResponse(std::string_view line, std::size_t request_records) {
  rapidjson::Document doc;
  // Read by length (a NUL byte is not the end), then nothing but blanks may follow the value.
  rapidjson::MemoryStream bytes(line.data(), line.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
  doc.ParseStream<rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag, rapidjson::UTF8<>>(in);
  if (doc.HasParseError()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("Lambda.InvalidResponse: the answer is not JSON ({} at byte {})",
                             rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset()));
  }
  const std::size_t end = in.Tell();
  if (line.find_first_not_of(" \t\r", end) != std::string_view::npos) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("Lambda.InvalidResponse: the answer is not JSON (bytes after the value at byte {})",
                    end));
  }
  if (!doc.IsObject()) {
    return Error(ErrorCode::kInvalidArgument, "Lambda.InvalidResponse: the answer is not a JSON object");
  }
  const Value* records = Member(doc, "records");
  if (records == nullptr || !records->IsArray()) {
    if (Member(doc, "errorType") != nullptr || Member(doc, "errorMessage") != nullptr) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("Lambda.FunctionError: {}: {}", Quoted(StringMember(doc, "errorType")),
                               Quoted(StringMember(doc, "errorMessage"))));
    }
    return Error(ErrorCode::kInvalidArgument, "Lambda.InvalidResponse: the answer has no records array");
  }

  LambdaResponse response;
  response.records.resize(request_records);
  std::vector<bool> seen(request_records, false);
  for (const Value& entry : records->GetArray()) {
    const Value* id = entry.IsObject() ? Member(entry, "recordId") : nullptr;
    const std::size_t at =
        id != nullptr && id->IsString() ? Position(Text(*id), request_records) : request_records;
    if (at == request_records) {
      ++response.unknown_ids;
      continue;
    }
    if (seen[at]) {
      ++response.repeated_ids;
      continue;
    }
    seen[at] = true;
    LambdaRecordOutcome& outcome = response.records[at];
    const Value* result = Member(entry, "result");
    const std::string_view word =
        result != nullptr && result->IsString() ? Text(*result) : std::string_view();
    if (word == "Ok") {
      const Value* data = Member(entry, "data");
      if (data == nullptr || !data->IsString()) {
        outcome.reason = "Lambda.InvalidOutput: result Ok without data";
        continue;
      }
      outcome.offset = response.data.size();
      if (!AppendBase64Decoded(response.data, Text(*data))) {
        outcome.reason = "Lambda.InvalidOutput: data is not base64";
        continue;
      }
      outcome.result = LambdaResult::kOk;
      outcome.size = WithoutNewline(std::string_view(response.data).substr(outcome.offset));
    } else if (word == "Dropped") {
      outcome.result = LambdaResult::kDropped;
    } else if (word == "ProcessingFailed") {
      outcome.reason = "Lambda.ProcessingFailedStatus: the function returned ProcessingFailed";
      const std::string message = StringMember(entry, "errorMessage");
      if (!message.empty()) outcome.reason += ": " + Quoted(message);
    } else if (result == nullptr) {
      outcome.reason = "Lambda.InvalidOutput: no result";
    } else if (!result->IsString()) {
      outcome.reason = "Lambda.InvalidOutput: result is not a string";
    } else {
      outcome.reason = fmt::format("Lambda.InvalidOutput: result '{}'", Quoted(word));
    }
  }
  for (std::size_t i = 0; i < request_records; ++i) {
    if (!seen[i])
      response.records[i].reason = fmt::format("Lambda.MissingRecordId: the answer has no record {}", i);
  }
  return response;
}

}  // namespace ferry::plugins
