// ParseTopSnapshot: rapidjson's DOM (replies are small), every lookup tolerant of a missing or mistyped key.
// Object members are walked by index: clang rejects rapidjson's member iterator comparisons in C++20.
#include "agent/ops/top_snapshot.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace ferry {
namespace {

using rapidjson::Value;

const Value* Member(const Value* object, const char* key) {
  if (object == nullptr || !object->IsObject() || !object->HasMember(key)) return nullptr;
  return &(*object)[key];
}

std::optional<std::uint64_t> Count(const Value* object, const char* key) {
  const Value* v = Member(object, key);
  if (v == nullptr || !v->IsUint64()) return std::nullopt;
  return v->GetUint64();
}

std::string Text(const Value* object, const char* key) {
  const Value* v = Member(object, key);
  if (v == nullptr || !v->IsString()) return {};
  return {v->GetString(), v->GetStringLength()};
}

TopFlowSnapshot ParseFlow(const Value& flow) {
  TopFlowSnapshot out;
  out.name = Text(&flow, "name");
  const Value* counters = Member(&flow, "counters");
  out.records_read = Count(counters, "records_read").value_or(0);
  out.records_sent = Count(counters, "records_sent").value_or(0);
  out.bytes_behind = Count(counters, "bytes_behind").value_or(0);
  out.spool_bytes = Count(counters, "spool_bytes");
  out.retries = Count(counters, "records_retried").value_or(0);
  if (const Value* errors = Member(&flow, "errors"); errors != nullptr && errors->IsObject()) {
    for (rapidjson::SizeType i = 0; i < errors->MemberCount(); ++i) {
      const Value& count = errors->MemberBegin()[i].value;
      if (count.IsUint64()) out.errors += count.GetUint64();
    }
  }
  if (const Value* files = Member(&flow, "files"); files != nullptr && files->IsArray()) {
    for (const Value& f : files->GetArray()) {
      out.files.push_back({Text(&f, "path"), Count(&f, "bytes_behind").value_or(0)});
    }
  }
  return out;
}

}  // namespace

Result<TopSnapshot> ParseTopSnapshot(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());  // iterative: no depth to exhaust
  if (doc.HasParseError()) {
    return Error(ErrorCode::kProtocol,
                 fmt::format("status reply is not valid JSON: {} (at byte {})",
                             rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Error(ErrorCode::kProtocol, "status reply is not a JSON object");
  TopSnapshot out;
  out.version = Text(&doc, "ferry");
  if (const Value* pid = Member(&doc, "pid"); pid != nullptr && pid->IsInt64()) {
    out.pid = static_cast<long>(pid->GetInt64());
  }
  if (const Value* up = Member(&doc, "uptime_seconds"); up != nullptr && up->IsNumber()) {
    out.uptime_seconds = up->GetDouble();
  }
  out.region = Text(Member(&doc, "aws"), "region");
  if (const Value* flows = Member(&doc, "flows"); flows != nullptr && flows->IsArray()) {
    for (const Value& flow : flows->GetArray()) out.flows.push_back(ParseFlow(flow));
  }
  return out;
}

}  // namespace ferry
