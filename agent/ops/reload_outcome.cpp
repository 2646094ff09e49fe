// ReloadOutcome: the reload's answer written as JSON, and read back into lines for people.
#include "agent/ops/reload_outcome.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ferry {
namespace {

std::string_view ResultName(ReloadOutcome::Result result) {
  switch (result) {
    case ReloadOutcome::Result::kApplied:
      return "applied";
    case ReloadOutcome::Result::kRefused:
      return "refused";
    case ReloadOutcome::Result::kBusy:
      return "busy";
  }
  return "refused";
}

std::string_view StringOf(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace

std::string ReloadOutcomeJson(const ReloadOutcome& outcome) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto string = [&w](std::string_view v) { w.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); };
  w.StartObject();
  w.Key("result");
  string(ResultName(outcome.result));
  w.Key("config");
  string(outcome.config);
  w.Key("errors");
  w.StartArray();
  for (const auto& e : outcome.errors) string(e);
  w.EndArray();
  w.Key("flows");
  w.StartArray();
  for (const auto& f : outcome.flows) {
    w.StartObject();
    w.Key("name");
    string(f.name);
    w.Key("change");
    string(FlowChangeName(f.change));
    if (!f.why.empty()) {
      w.Key("why");
      string(f.why);
    }
    if (f.undelivered > 0) {
      w.Key("undelivered");
      w.Uint64(f.undelivered);
    }
    if (!f.error.empty()) {
      w.Key("error");
      string(f.error);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("log_level");
  string(outcome.log_level_changed ? "changed" : "unchanged");
  w.Key("memory_limit");
  string(outcome.memory_limit_changed ? "changed" : "unchanged");
  w.Key("aws");
  string(outcome.aws_rebuilt ? "rebuilt" : "unchanged");
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

Result<ReloadAnswer> DescribeReloadAnswer(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Error(ErrorCode::kProtocol, "the answer is not a JSON object");
  }
  if (std::string_view error = StringOf(doc, "error"); !error.empty()) {
    return ReloadAnswer{false, fmt::format("the daemon answered: {}\n", error)};
  }
  const std::string_view result = StringOf(doc, "result");
  if (result.empty()) return Error(ErrorCode::kProtocol, "the answer has no result");
  ReloadAnswer out;
  // HasMember and operator[] rather than FindMember: clang's C++20 rules find rapidjson's iterators' !=
  // ambiguous.
  const rapidjson::Value* errors = doc.HasMember("errors") ? &doc["errors"] : nullptr;
  const bool any_errors = errors != nullptr && errors->IsArray() && !errors->Empty();
  out.ok = result == "applied" && !any_errors;
  const std::string_view file = StringOf(doc, "config");
  if (result == "applied") {
    out.text = fmt::format("reload applied{}{}\n", file.empty() ? "" : ": ", file);
  } else if (result == "busy") {
    out.text = "reload not done: another reload is under way; ask again once it is done\n";
  } else {
    out.text = fmt::format("reload refused{}{}; ferry keeps running with the config it had\n",
                           file.empty() ? "" : ": ", file);
  }
  if (any_errors) {
    for (const auto& e : errors->GetArray()) {
      if (e.IsString()) out.text += fmt::format("  error: {}\n", e.GetString());
    }
  }
  if (doc.HasMember("flows") && doc["flows"].IsArray()) {
    for (const auto& f : doc["flows"].GetArray()) {
      out.text += fmt::format("  flow {}: {}", StringOf(f, "name"), StringOf(f, "change"));
      if (std::string_view why = StringOf(f, "why"); !why.empty()) out.text += fmt::format(" ({})", why);
      if (f.IsObject() && f.HasMember("undelivered") && f["undelivered"].IsUint64())
        out.text += fmt::format(", {} records not delivered in time", f["undelivered"].GetUint64());
      if (std::string_view error = StringOf(f, "error"); !error.empty())
        out.text += fmt::format("; not running: {}", error);
      out.text += '\n';
    }
  }
  for (const char* key : {"log_level", "memory_limit"}) {
    if (StringOf(doc, key) == "changed") out.text += fmt::format("  {}: changed\n", key);
  }
  if (StringOf(doc, "aws") == "rebuilt") out.text += "  aws: new access built; every flow restarted on it\n";
  return out;
}

}  // namespace ferry
