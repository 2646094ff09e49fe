// Schema: error formatting and the typed scalar readers behind every field helper.
#include "agent/config/schema.h"

#include <charconv>

#include <fmt/format.h>

namespace ferry::config {
namespace {

std::string_view KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "an undefined value";
  }
}

}  // namespace

void ParseContext::Fail(const YAML::Node& node, std::string_view path, std::string_view message) {
  FailAt(node.IsNull() && !key_mark_.is_null() ? key_mark_ : node.Mark(), path, message);
}

void ParseContext::FailAt(const YAML::Mark& mark, std::string_view path, std::string_view message) {
  if (mark.is_null()) {
    errors_.push_back(fmt::format("{}: {}: {}", file_, path, message));
  } else {
    errors_.push_back(fmt::format("{}:{}:{}: {}: {}", file_, mark.line + 1, mark.column + 1, path, message));
  }
}

void ParseContext::Locate(const YAML::Node& value, const std::string& path) {
  const YAML::Mark mark = value.IsNull() && !key_mark_.is_null() ? key_mark_ : value.Mark();
  if (mark.is_null()) return;
  locations_[path] = fmt::format("{}:{}:{}", file_, mark.line + 1, mark.column + 1);
}

std::string JoinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

void DescribeKeyLine(std::string& out, std::string_view key, std::string_view type,
                     std::string_view default_value, std::string_view doc) {
  out += fmt::format("{:<28} {:<22} {:<16} {}\n", key, type, default_value, doc);
}

bool ReadString(const YAML::Node& node, const std::string& path, ParseContext& ctx, std::string& out) {
  if (!node.IsScalar()) {
    ctx.Fail(node, path, fmt::format("expected a string, found {}", KindName(node)));
    return false;
  }
  out = node.Scalar();
  return true;
}

bool ReadStringList(const YAML::Node& node, const std::string& path, ParseContext& ctx,
                    std::vector<std::string>& out) {
  if (node.IsScalar()) {  // a single glob is a list of one
    out = {node.Scalar()};
    return true;
  }
  if (!node.IsSequence()) {
    ctx.Fail(node, path, fmt::format("expected a list of strings, found {}", KindName(node)));
    return false;
  }
  out.clear();
  bool ok = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string item;
    if (ReadString(node[i], fmt::format("{}[{}]", path, i), ctx, item)) {
      out.push_back(std::move(item));
    } else {
      ok = false;
    }
  }
  return ok;
}

bool ReadDuration(const YAML::Node& node, const std::string& path, ParseContext& ctx, Duration& out) {
  std::string text;
  if (!ReadString(node, path, ctx, text)) return false;
  auto parsed = ParseDuration(text);
  if (!parsed) {
    ctx.Fail(node, path, parsed.error().message());
    return false;
  }
  out = *parsed;
  return true;
}

bool ReadByteSize(const YAML::Node& node, const std::string& path, ParseContext& ctx, std::uint64_t& out) {
  std::string text;
  if (!ReadString(node, path, ctx, text)) return false;
  auto parsed = ParseByteSize(text);
  if (!parsed) {
    ctx.Fail(node, path, parsed.error().message());
    return false;
  }
  out = *parsed;
  return true;
}

bool ReadCount(const YAML::Node& node, const std::string& path, ParseContext& ctx, std::uint64_t min,
               std::uint64_t max, std::uint64_t& out) {
  std::string text;
  if (!ReadString(node, path, ctx, text)) return false;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    ctx.Fail(node, path, fmt::format("'{}' is not a whole number", text));
    return false;
  }
  if (value < min || value > max) {
    ctx.Fail(node, path, fmt::format("{} is out of range ({} to {})", value, min, max));
    return false;
  }
  out = value;
  return true;
}

bool ReadBool(const YAML::Node& node, const std::string& path, ParseContext& ctx, bool& out) {
  std::string text;
  if (!ReadString(node, path, ctx, text)) return false;
  if (text == "true") {
    out = true;
  } else if (text == "false") {
    out = false;
  } else {
    ctx.Fail(node, path, fmt::format("'{}' is not true or false", text));
    return false;
  }
  return true;
}

}  // namespace ferry::config
