// AgentJsonContext: positions, messages and the typed readers of agent.json values.
#include "agent/config/agent_json_context.h"

#include <charconv>

#include <fmt/format.h>

namespace ferry::config {

std::string AgentJsonContext::Where(std::size_t offset) const {
  const TextPosition at = PositionOf(text_, offset);
  return fmt::format("{}:{}:{}", source_, at.line, at.column);
}

std::string AgentJsonContext::Where(const JsonValue& value) const {
  return Where(value.offset);
}

void AgentJsonContext::Fail(const JsonValue& value, std::string_view key, std::string_view message) {
  FailAt(value.offset, key, message);
}

void AgentJsonContext::FailAt(std::size_t offset, std::string_view key, std::string_view message) {
  errors_.push_back(fmt::format("{}: {}: {}", Where(offset), key, message));
}

void AgentJsonContext::Warn(const JsonValue& value, std::string_view key, std::string_view once,
                            std::string_view message) {
  if (!warned_.insert(std::string(once)).second) return;
  warnings_.push_back(fmt::format("{}: {}: {}", Where(value), key, message));
}

void AgentJsonContext::Origin(const std::string& ferry_path, const JsonValue& value, std::string_view key) {
  origins_[ferry_path] = fmt::format("{}: {}", Where(value), key);
}

bool AgentJsonContext::ReadText(const JsonValue& value, std::string_view key, std::string& out) {
  switch (value.type) {
    case JsonValue::Type::kNull:
      return false;
    case JsonValue::Type::kString:
    case JsonValue::Type::kNumber:
    case JsonValue::Type::kBool:
      out = value.text;
      return true;
    default:
      Fail(value, key, fmt::format("expected a string, found {}", JsonTypeName(value.type)));
      return false;
  }
}

bool AgentJsonContext::ReadNonEmptyText(const JsonValue& value, std::string_view key, std::string& out) {
  std::string text;
  if (!ReadText(value, key, text) || text.empty()) return false;
  out = std::move(text);
  return true;
}

bool AgentJsonContext::ReadInteger(const JsonValue& value, std::string_view key, std::int64_t min,
                                   std::int64_t max, std::int64_t& out) {
  if (value.IsNull()) return false;
  if (value.type != JsonValue::Type::kNumber && value.type != JsonValue::Type::kString) {
    Fail(value, key, fmt::format("expected a whole number, found {}", JsonTypeName(value.type)));
    return false;
  }
  const std::string& text = value.text;
  std::int64_t parsed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    Fail(value, key, fmt::format("'{}' is not a whole number", text));
    return false;
  }
  if (parsed < min || parsed > max) {
    Fail(value, key, fmt::format("{} is outside the agent's range {} to {}", parsed, min, max));
    return false;
  }
  out = parsed;
  return true;
}

bool AgentJsonContext::ReadBool(const JsonValue& value, std::string_view key, bool& out) {
  if (value.IsNull()) return false;
  std::string text;
  if (value.type == JsonValue::Type::kBool || value.type == JsonValue::Type::kString ||
      value.type == JsonValue::Type::kNumber) {
    text = value.text;
    for (char& c : text) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  // The agent's BooleanConverter.
  if (text == "true" || text == "yes" || text == "t" || text == "y" || text == "1") {
    out = true;
    return true;
  }
  if (text == "false" || text == "no" || text == "f" || text == "n" || text == "0") {
    out = false;
    return true;
  }
  Fail(value, key,
       value.type == JsonValue::Type::kString || value.type == JsonValue::Type::kNumber
           ? fmt::format("'{}' is not true or false", value.text)
           : fmt::format("expected true or false, found {}", JsonTypeName(value.type)));
  return false;
}

bool AgentJsonContext::ReadTextList(const JsonValue& value, std::string_view key,
                                    std::vector<std::string>& out) {
  if (value.IsNull()) return false;
  if (!value.IsArray()) {
    Fail(value, key, fmt::format("expected a list of strings, found {}", JsonTypeName(value.type)));
    return false;
  }
  bool ok = true;
  out.clear();
  for (std::size_t i = 0; i < value.items.size(); ++i) {
    std::string item;
    const std::string item_key = fmt::format("{}[{}]", key, i);
    if (value.items[i].IsNull()) {
      Fail(value.items[i], item_key, "expected a string, found null");
      ok = false;
    } else if (ReadText(value.items[i], item_key, item)) {
      out.push_back(std::move(item));
    } else {
      ok = false;
    }
  }
  return ok;
}

bool AgentJsonContext::ReadWord(const JsonValue& value, std::string_view key,
                                const std::vector<std::string_view>& words, std::string& out) {
  std::string text;
  if (!ReadText(value, key, text)) return false;
  for (std::string_view word : words) {
    if (word == text) {
      out = std::move(text);
      return true;
    }
  }
  std::string known;
  for (std::string_view word : words) known += fmt::format("{}{}", known.empty() ? "" : ", ", word);
  Fail(value, key, fmt::format("'{}' is not one of: {}", text, known));
  return false;
}

bool AgentJsonContext::CheckObject(const JsonValue& value, std::string_view key) {
  if (!value.IsObject()) {
    Fail(value, key, fmt::format("expected an object {{...}}, found {}", JsonTypeName(value.type)));
    return false;
  }
  std::set<std::string_view> seen;
  bool ok = true;
  for (const JsonKey& k : value.keys) {
    if (!seen.insert(k.name).second) {
      FailAt(k.offset, key.empty() ? k.name : fmt::format("{}.{}", key, k.name), "key given twice");
      ok = false;
    }
  }
  return ok;
}

namespace {

// The length of a character YAML may read as a line break or drop (C0 and C1 controls, DEL, U+2028,
// U+2029, a byte-order mark) at value[i], or 0.
std::size_t SpecialAt(std::string_view value, std::size_t i) {
  const auto c = static_cast<unsigned char>(value[i]);
  if (c < 0x20 || c == 0x7F) return 1;
  const std::string_view rest = value.substr(i);
  if (c == 0xC2 && rest.size() >= 2 && static_cast<unsigned char>(rest[1]) <= 0x9F) return 2;
  if (rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9") ||
      rest.starts_with("\xEF\xBB\xBF")) {
    return 3;
  }
  return 0;
}

}  // namespace

std::string YamlQuote(std::string_view value) {
  bool printable = true;
  for (std::size_t i = 0; i < value.size() && printable; ++i) printable = SpecialAt(value, i) == 0;
  std::string out;
  if (printable) {
    out = "'";
    for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  out = "\"";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char ch = value[i];
    const auto c = static_cast<unsigned char>(ch);
    if (const std::size_t n = SpecialAt(value, i); n > 1) {
      // A valid UTF-8 sequence (the reader checked): its code point as an escape.
      const unsigned cp = n == 2 ? ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(value[i + 1]) & 0x3Fu)
                                 : ((c & 0x0Fu) << 12) |
                                       ((static_cast<unsigned char>(value[i + 1]) & 0x3Fu) << 6) |
                                       (static_cast<unsigned char>(value[i + 2]) & 0x3Fu);
      out += fmt::format("\\u{:04x}", cp);
      i += n - 1;
      continue;
    }
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string YamlLine(std::size_t indent, std::string_view text, std::string_view comment) {
  std::string line(indent, ' ');
  line += text;
  if (!comment.empty()) {
    constexpr std::size_t kCommentColumn = 44;
    line.append(line.size() < kCommentColumn ? kCommentColumn - line.size() : 1, ' ');
    line += "# ";
    for (char c : comment) line += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  }
  return line + "\n";
}

}  // namespace ferry::config
