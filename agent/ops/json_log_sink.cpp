// JsonLogSink: the object built by hand (a few fields, one pass per string) rather than through a JSON
// library, which would refuse bytes that are not UTF-8 instead of replacing them.
#include "agent/ops/json_log_sink.h"

#include <cstdint>
#include <ctime>
#include <vector>

#include <fmt/format.h>

#include "agent/core/log_escape.h"
#include "agent/core/log_fields.h"

namespace ferry {
namespace {

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// "2026-12-05T14:06:12.123Z"
std::string Rfc3339Millis(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  long millis = static_cast<long>(ms % 1000);
  if (millis < 0) {  // before 1970: floor, not truncate
    millis += 1000;
    --seconds;
  }
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

// The flow's name from "flow NAME: ...": up to the first ": " (names with ": " in them read short).
std::string_view FlowOf(std::string_view message) {
  constexpr std::string_view kPrefix = "flow ";
  if (!message.starts_with(kPrefix)) return {};
  const std::size_t end = message.find(": ", kPrefix.size());
  if (end == std::string_view::npos || end == kPrefix.size()) return {};
  return message.substr(kPrefix.size(), end - kPrefix.size());
}

void AppendField(std::string& out, std::string_view key, std::string_view value) {
  out += fmt::format(",\"{}\":\"", key);
  out += JsonEscape(value);
  out += '"';
}

}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7f) {
      if (b == '"' || b == '\\') out += '\\';
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    if (b < 0x80) {
      switch (b) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += fmt::format("\\u{:04x}", b);  // other controls, DEL
      }
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t length = DecodeUtf8(s, i, cp);
    if (length == 0) {
      out += "\\ufffd";
      ++i;
    } else if (cp == 0x2028 || cp == 0x2029) {
      out += fmt::format("\\u{:04x}", cp);  // valid JSON, but line breaks to JavaScript
      i += length;
    } else {
      out.append(s.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string JsonLogLine(std::chrono::system_clock::time_point time, spdlog::level::level_enum level,
                        std::string_view message) {
  std::vector<LogField> fields;
  std::string plain;
  if (MayHaveLogFields(message)) {
    plain = StripLogFields(message, &fields);
    message = plain;
  }
  std::string out = fmt::format("{{\"time\":\"{}\",\"level\":\"{}\"", Rfc3339Millis(time), LevelName(level));
  if (std::string_view flow = FlowOf(message); !flow.empty()) AppendField(out, "flow", flow);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    bool seen = false;  // a key once: the first mark of it is the line's
    for (std::size_t j = 0; j < i; ++j) seen = seen || fields[j].key == fields[i].key;
    if (!seen) AppendField(out, fields[i].key, fields[i].value);
  }
  AppendField(out, "message", NeedsLogEscape(message) ? EscapeLogText(message) : std::string(message));
  out += '}';
  return out;
}

JsonLogSink::JsonLogSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {
  inner_->set_pattern("%v");
}

void JsonLogSink::log(const spdlog::details::log_msg& msg) {
  const std::string line =
      JsonLogLine(msg.time, msg.level, std::string_view(msg.payload.data(), msg.payload.size()));
  spdlog::details::log_msg copy(msg);
  copy.payload = spdlog::string_view_t(line.data(), line.size());
  inner_->log(copy);
}

}  // namespace ferry
