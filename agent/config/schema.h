// Schema: how a config section is declared, once, as a table of fields.
//
// Each field has a name, a type description, a default and a doc line; the same table parses and
// validates YAML (with errors that name file:line:column and the full key path), prints the effective
// config for `ferry check`, and is the source for the reference docs. Parsing collects every error
// instead of stopping at the first, so a user fixes a config in one pass.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/core/masking.h"
#include "agent/core/units.h"

namespace ferry::config {

// Where we are while parsing: the file, the key path, and the errors found so far.
class ParseContext {
 public:
  explicit ParseContext(std::string file) : file_(std::move(file)) {}

  // Records an error at node's position: "file:line:col: path: message". An empty value ("key:") has
  // no position of its own (yaml-cpp puts it at the next token), so its key's position is used.
  void Fail(const YAML::Node& node, std::string_view path, std::string_view message);
  // The position of the key whose value is being parsed.
  void set_key_mark(const YAML::Mark& mark) { key_mark_ = mark; }
  void FailAt(const YAML::Mark& mark, std::string_view path, std::string_view message);
  // Remembers where the value of the key at path is ("file:line:column"), for errors found after parsing
  // (Config::locations).
  void Locate(const YAML::Node& value, const std::string& path);

  const std::vector<std::string>& errors() const { return errors_; }
  const std::string& file() const { return file_; }
  std::map<std::string, std::string, std::less<>>& locations() { return locations_; }

 private:
  std::string file_;
  YAML::Mark key_mark_ = YAML::Mark::null_mark();
  std::vector<std::string> errors_;
  std::map<std::string, std::string, std::less<>> locations_;
};

template <typename S>
struct Field {
  std::string_view name;
  std::string_view type;  // for docs: "string", "duration", "end | beginning", ...
  // For docs; empty when required or none. Typed fields take it from the default-constructed struct, so
  // each default is written once, where the struct declares it.
  std::string default_value;
  std::string_view doc;
  bool required = false;
  // Reads node into the struct; reports problems through ctx under path.
  std::function<void(const YAML::Node& node, const std::string& path, S& out, ParseContext& ctx)> parse;
  // Writes the field's effective value (secrets masked) for `ferry check`; may write nothing.
  std::function<void(YAML::Emitter& out, const S& in)> emit;
};

// Joins a key path: "flows[0]" + "kinesis" -> "flows[0].kinesis".
std::string JoinPath(std::string_view parent, std::string_view key);

// Scalar readers shared by field helpers; each reports a typed error and returns false on bad input.
bool ReadString(const YAML::Node& node, const std::string& path, ParseContext& ctx, std::string& out);
bool ReadStringList(const YAML::Node& node, const std::string& path, ParseContext& ctx,
                    std::vector<std::string>& out);
bool ReadDuration(const YAML::Node& node, const std::string& path, ParseContext& ctx, Duration& out);
bool ReadByteSize(const YAML::Node& node, const std::string& path, ParseContext& ctx, std::uint64_t& out);
bool ReadCount(const YAML::Node& node, const std::string& path, ParseContext& ctx, std::uint64_t min,
               std::uint64_t max, std::uint64_t& out);
bool ReadBool(const YAML::Node& node, const std::string& path, ParseContext& ctx, bool& out);

void DescribeKeyLine(std::string& out, std::string_view key, std::string_view type,
                     std::string_view default_value, std::string_view doc);
// Appends field's line of `ferry check --keys` ("prefix.name  type  default  doc").
template <typename S>
void DescribeKey(std::string& out, std::string_view prefix, const Field<S>& field) {
  DescribeKeyLine(out, JoinPath(prefix, field.name), field.type,
                  field.required ? std::string_view("(required)") : std::string_view(field.default_value),
                  field.doc);
}

// Parses a YAML map into out through fields: unknown, duplicate and missing required keys are errors.
template <typename S>
void ParseMap(const YAML::Node& node, const std::string& path, const std::vector<Field<S>>& fields, S& out,
              ParseContext& ctx) {
  // A key with nothing after it ("aws:") is an empty section, not an error of its own.
  if (!node.IsMap() && !node.IsNull()) {
    ctx.Fail(node, path, "expected a mapping of keys to values");
    return;
  }
  std::vector<bool> seen(fields.size(), false);
  for (const auto& entry : node.IsMap() ? node : YAML::Node(YAML::NodeType::Map)) {
    std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    std::string key_path = JoinPath(path, key);
    std::size_t index = 0;
    while (index < fields.size() && fields[index].name != key) ++index;
    if (index == fields.size()) {
      std::string known;
      for (const auto& f : fields) known += (known.empty() ? "" : ", ") + std::string(f.name);
      ctx.Fail(entry.first, key_path, "unknown key (known keys here: " + known + ")");
      continue;
    }
    if (seen[index]) {
      ctx.Fail(entry.first, key_path, "key given twice");
      continue;
    }
    seen[index] = true;
    ctx.set_key_mark(entry.first.Mark());
    ctx.Locate(entry.second, key_path);
    fields[index].parse(entry.second, key_path, out, ctx);
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].required && !seen[i]) {
      ctx.Fail(node, JoinPath(path, fields[i].name), "missing required key");
    }
  }
}

template <typename S>
void EmitMap(YAML::Emitter& out, const std::vector<Field<S>>& fields, const S& in) {
  out << YAML::BeginMap;
  for (const auto& f : fields) {
    if (f.emit) f.emit(out, in);
  }
  out << YAML::EndMap;
}

// Field helpers for the common member types.
template <typename S>
Field<S> StringField(std::string_view name, std::string S::*member, std::string_view default_value,
                     std::string_view doc, bool required = false) {
  return Field<S>{name,
                  "string",
                  std::string(default_value),
                  doc,
                  required,
                  [member](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
                    std::string value;
                    if (!ReadString(n, p, ctx, value)) return;
                    if (value.empty()) {
                      ctx.Fail(n, p, "must not be empty");
                      return;
                    }
                    out.*member = std::move(value);
                  },
                  [name, member](YAML::Emitter& e, const S& in) {
                    if (!(in.*member).empty())
                      e << YAML::Key << std::string(name) << YAML::Value << in.*member;
                  }};
}

template <typename S>
Field<S> DurationField(std::string_view name, Duration S::*member, std::string_view doc) {
  return Field<S>{name,
                  "duration",
                  FormatDuration(S{}.*member),
                  doc,
                  false,
                  [member](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
                    ReadDuration(n, p, ctx, out.*member);
                  },
                  [name, member](YAML::Emitter& e, const S& in) {
                    e << YAML::Key << std::string(name) << YAML::Value << FormatDuration(in.*member);
                  }};
}

// A duration that must lie in [min, max].
template <typename S>
Field<S> DurationField(std::string_view name, Duration S::*member, Duration min, Duration max,
                       std::string_view doc) {
  Field<S> f = DurationField<S>(name, member, doc);
  f.parse = [member, min, max](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
    Duration value{};
    if (!ReadDuration(n, p, ctx, value)) return;
    if (value < min || value > max) {
      ctx.Fail(n, p, "must be between " + FormatDuration(min) + " and " + FormatDuration(max));
      return;
    }
    out.*member = value;
  };
  return f;
}

template <typename S>
Field<S> ByteSizeField(std::string_view name, std::uint64_t S::*member, std::string_view doc) {
  return Field<S>{name,
                  "size",
                  FormatByteSize(S{}.*member),
                  doc,
                  false,
                  [member](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
                    ReadByteSize(n, p, ctx, out.*member);
                  },
                  [name, member](YAML::Emitter& e, const S& in) {
                    e << YAML::Key << std::string(name) << YAML::Value << FormatByteSize(in.*member);
                  }};
}

// A size that must lie in [min, max]; `why` (e.g. " (the Kinesis record limit)") ends the error message.
template <typename S>
Field<S> ByteSizeField(std::string_view name, std::uint64_t S::*member, std::uint64_t min, std::uint64_t max,
                       std::string_view doc, std::string_view why = "") {
  Field<S> f = ByteSizeField<S>(name, member, doc);
  f.parse = [member, min, max, why](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
    std::uint64_t value = 0;
    if (!ReadByteSize(n, p, ctx, value)) return;
    if (value < min || value > max) {
      ctx.Fail(n, p,
               "must be between " + FormatByteSize(min) + " and " + FormatByteSize(max) + std::string(why));
      return;
    }
    out.*member = value;
  };
  return f;
}

template <typename S>
Field<S> CountField(std::string_view name, std::uint64_t S::*member, std::uint64_t min, std::uint64_t max,
                    std::string_view doc) {
  return Field<S>{name,
                  "integer",
                  std::to_string(S{}.*member),
                  doc,
                  false,
                  [member, min, max](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
                    ReadCount(n, p, ctx, min, max, out.*member);
                  },
                  [name, member](YAML::Emitter& e, const S& in) {
                    e << YAML::Key << std::string(name) << YAML::Value << in.*member;
                  }};
}

template <typename S>
Field<S> BoolField(std::string_view name, bool S::*member, std::string_view doc) {
  return Field<S>{name,
                  "true | false",
                  S{}.*member ? "true" : "false",
                  doc,
                  false,
                  [member](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
                    ReadBool(n, p, ctx, out.*member);
                  },
                  [name, member](YAML::Emitter& e, const S& in) {
                    e << YAML::Key << std::string(name) << YAML::Value << (in.*member ? "true" : "false");
                  }};
}

// The word naming value, or nothing.
template <typename E>
std::string WordFor(const std::vector<std::pair<std::string, E>>& words, E value) {
  for (const auto& [word, e] : words) {
    if (e == value) return word;
  }
  return "";
}

// One of a fixed set of words, each naming a value of an enum. The type shown in docs lists the words.
template <typename S, typename E>
Field<S> EnumField(std::string_view name, E S::*member, std::vector<std::pair<std::string, E>> words,
                   std::string_view type, std::string_view doc) {
  return Field<S>{name,
                  type,
                  WordFor(words, S{}.*member),
                  doc,
                  false,
                  [member, words](const YAML::Node& n, const std::string& p, S& out, ParseContext& ctx) {
                    std::string value;
                    if (!ReadString(n, p, ctx, value)) return;
                    std::string known;
                    for (const auto& [word, e] : words) {
                      if (word == value) {
                        out.*member = e;
                        return;
                      }
                      known += (known.empty() ? "" : ", ") + word;
                    }
                    ctx.Fail(n, p, "'" + value + "' is not one of: " + known);
                  },
                  [name, member, words](YAML::Emitter& e, const S& in) {
                    for (const auto& [word, value] : words) {
                      if (value == in.*member) e << YAML::Key << std::string(name) << YAML::Value << word;
                    }
                  }};
}

// A field the user must see but never echo: `ferry check` shows whether it is set, not its value.
template <typename S>
Field<S> SecretField(std::string_view name, std::string S::*member, std::string_view doc) {
  Field<S> f = StringField<S>(name, member, "", doc);
  f.emit = [name, member](YAML::Emitter& e, const S& in) {
    if (!(in.*member).empty()) e << YAML::Key << std::string(name) << YAML::Value << "(set, hidden)";
  };
  return f;
}

// An identifier that is not secret by itself but is shown only by its last 4 characters (access key ids).
template <typename S>
Field<S> MaskedField(std::string_view name, std::string S::*member, std::string_view default_value,
                     std::string_view doc) {
  Field<S> f = StringField<S>(name, member, default_value, doc);
  f.emit = [name, member](YAML::Emitter& e, const S& in) {
    if (!(in.*member).empty())
      e << YAML::Key << std::string(name) << YAML::Value << MaskAllButLast(in.*member);
  };
  return f;
}

}  // namespace ferry::config
