// JsonStrings: in-situ parse, path walk, raw positions from the decoded strings' addresses.
#include "plugins/redact/json_strings.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstring>

namespace ferry::plugins::redact {

namespace {

constexpr std::size_t kPoolBytes = 64 * 1024;

// The closing quote of the raw string content that starts at begin.
std::size_t ClosingQuote(std::string_view record, std::size_t begin) {
  std::size_t i = begin;
  while (i < record.size() && record[i] != '"') i += record[i] == '\\' ? 2 : 1;
  return std::min(i, record.size());
}

}  // namespace

Status JsonStrings::Find(std::string_view record, const std::vector<FieldPath>& paths,
                         std::vector<JsonString>& out) {
  out.clear();
  // JSON has no raw NUL anywhere, and the in-situ parser would take one for the end of the text.
  if (std::memchr(record.data(), '\0', record.size()) != nullptr) {
    return Error(ErrorCode::kInvalidArgument, "not JSON: a NUL byte");
  }
  buffer_.assign(record.data(), record.size());  // NUL-terminated by std::string
  if (pool_.empty()) pool_.resize(kPoolBytes);
  rapidjson::MemoryPoolAllocator<> allocator(pool_.data(), pool_.size());
  rapidjson::Document doc(&allocator);
  doc.ParseInsitu<rapidjson::kParseIterativeFlag>(buffer_.data());
  if (doc.HasParseError()) {
    return Error(ErrorCode::kInvalidArgument, std::string("not JSON: ") +
                                                  rapidjson::GetParseError_En(doc.GetParseError()) +
                                                  " at byte " + std::to_string(doc.GetErrorOffset()));
  }
  const char* base = buffer_.data();
  auto take = [&](const rapidjson::Value& v) {
    std::size_t begin = static_cast<std::size_t>(v.GetString() - base);
    std::size_t end = ClosingQuote(record, begin);
    std::string_view value(v.GetString(), v.GetStringLength());
    out.push_back(
        {begin, end, value, end - begin != value.size() || record.substr(begin, end - begin) != value});
  };
  for (const FieldPath& path : paths) {
    path.ForEach(static_cast<rapidjson::Value&>(doc), [&](const FieldSlot& slot) {
      stack_.clear();
      stack_.push_back(slot.value);
      while (!stack_.empty()) {
        const auto* v = static_cast<const rapidjson::Value*>(stack_.back());
        stack_.pop_back();
        if (v->IsString()) {
          take(*v);
        } else if (v->IsArray()) {
          for (auto e = v->End(); e != v->Begin();) stack_.push_back(&*--e);
        } else if (v->IsObject()) {
          auto first = v->MemberBegin();
          for (auto k = v->MemberCount(); k-- > 0;) stack_.push_back(&first[k].value);
        }
      }
      return true;
    });
  }
  std::sort(out.begin(), out.end(),
            [](const JsonString& a, const JsonString& b) { return a.begin < b.begin; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const JsonString& a, const JsonString& b) { return a.begin == b.begin; }),
            out.end());
  return Status::Ok();
}

void AppendJsonEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
}

}  // namespace ferry::plugins::redact
