// YamlToJson: resolves plain scalars by the YAML 1.2 core schema and writes through RapidJSON's writer,
// which escapes strings and checks their UTF-8.
#include "plugins/external/yaml_to_json.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

namespace ferry::plugins {
namespace {

constexpr std::size_t kMaxJsonBytes = 1 << 20;

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                     rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>;

bool IsDigits(std::string_view s, std::string_view digits) {
  return !s.empty() && s.find_first_not_of(digits) == std::string_view::npos;
}

// Decimal digits without leading zeros ("007" -> "7", "0" stays).
std::string_view WithoutLeadingZeros(std::string_view digits) {
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  return digits;
}

// A hex or octal integer as decimal, or nothing past 64 bits.
std::optional<std::string> Radix(std::string_view digits, unsigned base) {
  std::uint64_t value = 0;
  for (char c : digits) {
    const unsigned d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (value > (UINT64_MAX - d) / base) return std::nullopt;
    value = value * base + d;
  }
  return std::to_string(value);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? as a JSON number, or nothing if text is not one.
std::optional<std::string> Float(std::string_view text) {
  std::string out;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    if (text[0] == '-') out += '-';
    text.remove_prefix(1);
  }
  const std::size_t exp_at = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, exp_at);
  const std::string_view exponent = exp_at == std::string_view::npos ? "" : text.substr(exp_at + 1);
  const std::size_t dot = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? "" : mantissa.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  if (!whole.empty() && !IsDigits(whole, "0123456789")) return std::nullopt;
  if (!fraction.empty() && !IsDigits(fraction, "0123456789")) return std::nullopt;
  if (exp_at != std::string_view::npos) {
    std::string_view e = exponent;
    if (!e.empty() && (e[0] == '-' || e[0] == '+')) e.remove_prefix(1);
    if (!IsDigits(e, "0123456789")) return std::nullopt;
  }
  out += whole.empty() ? std::string_view("0") : WithoutLeadingZeros(whole);
  if (!fraction.empty()) out += "." + std::string(fraction);
  if (exp_at != std::string_view::npos) out += "e" + std::string(exponent);
  return out;
}

class Converter {
 public:
  Converter(config::ParseContext& ctx) : ctx_(ctx), writer_(buffer_) {}

  bool Write(const YAML::Node& node, const std::string& path) {
    if (!Value(node, path)) return false;
    if (buffer_.GetSize() > kMaxJsonBytes) {
      ctx_.Fail(node, path, fmt::format("is more than {} bytes as JSON", kMaxJsonBytes));
      return false;
    }
    return true;
  }
  std::string_view json() const { return {buffer_.GetString(), buffer_.GetSize()}; }

 private:
  bool Value(const YAML::Node& node, const std::string& path) {
    // Checked as it grows, so aliases that multiply a small file stop early (Write then refuses it); a
    // null stands in so the writer's nesting stays balanced.
    if (buffer_.GetSize() > kMaxJsonBytes) return writer_.Null();
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return writer_.Null();
      case YAML::NodeType::Scalar:
        return Scalar(node, path);
      case YAML::NodeType::Sequence: {
        writer_.StartArray();
        for (std::size_t i = 0; i < node.size(); ++i) {
          if (!Value(node[i], fmt::format("{}[{}]", path, i))) return false;
        }
        return writer_.EndArray();
      }
      case YAML::NodeType::Map:
        return Map(node, path);
    }
    return false;
  }

  bool Map(const YAML::Node& node, const std::string& path) {
    writer_.StartObject();
    std::set<std::string, std::less<>> keys;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        ctx_.Fail(entry.first, path, "a key must be a string (JSON has no other keys)");
        return false;
      }
      const std::string& key = entry.first.Scalar();
      const std::string key_path = config::JoinPath(path, key);
      if (!keys.insert(key).second) {
        ctx_.Fail(entry.first, key_path, "key given twice");
        return false;
      }
      if (!writer_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()))) {
        ctx_.Fail(entry.first, key_path, "the key is not valid UTF-8");
        return false;
      }
      if (!Value(entry.second, key_path)) return false;
    }
    return writer_.EndObject();
  }

  bool Scalar(const YAML::Node& node, const std::string& path) {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return String(node, path, text);
    if (tag != "?") {
      ctx_.Fail(node, path, fmt::format("the tag {} is not supported here (only !!str)", tag));
      return false;
    }
    if (text == "~" || text == "null" || text == "Null" || text == "NULL") return writer_.Null();
    if (text == "true" || text == "True" || text == "TRUE") return writer_.Bool(true);
    if (text == "false" || text == "False" || text == "FALSE") return writer_.Bool(false);
    std::string_view t = text;
    if (t.starts_with("0x") || t.starts_with("0o")) {
      const std::string_view digits = t.substr(2);
      const bool hex = t[1] == 'x';
      if (IsDigits(digits, hex ? "0123456789abcdefABCDEF" : "01234567")) {
        const auto value = Radix(digits, hex ? 16 : 8);
        if (!value) {
          ctx_.Fail(node, path, fmt::format("{} does not fit in 64 bits", text));
          return false;
        }
        return Number(*value);
      }
      return String(node, path, text);
    }
    std::string_view unsigned_part = t;
    if (!t.empty() && (t[0] == '-' || t[0] == '+')) unsigned_part.remove_prefix(1);
    if (IsDigits(unsigned_part, "0123456789")) {
      return Number((t[0] == '-' ? "-" : "") + std::string(WithoutLeadingZeros(unsigned_part)));
    }
    if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF" || t == ".nan" ||
        t == ".NaN" || t == ".NAN") {
      ctx_.Fail(node, path, fmt::format("{} has no JSON number (quote it for a string)", text));
      return false;
    }
    if (auto number = Float(t)) return Number(*number);
    return String(node, path, text);
  }

  bool String(const YAML::Node& node, const std::string& path, const std::string& text) {
    if (!writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()))) {
      ctx_.Fail(node, path, "is not valid UTF-8");
      return false;
    }
    return true;
  }

  bool Number(const std::string& json) {
    return writer_.RawValue(json.data(), json.size(), rapidjson::kNumberType);
  }

  config::ParseContext& ctx_;
  rapidjson::StringBuffer buffer_;
  JsonWriter writer_;
};

}  // namespace

bool YamlToJson(const YAML::Node& node, const std::string& path, config::ParseContext& ctx,
                std::string& out) {
  Converter converter(ctx);
  if (!converter.Write(node, path)) return false;
  out += converter.json();
  return true;
}

}  // namespace ferry::plugins
