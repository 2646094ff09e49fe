// RecordKey: what the sample and throttle plugins group records by: the file a record was read from
// (`key: "${file}"`), a JSON field (`key: user.id`, a field path, plugins/fields/field_path.h), or a part
// of the raw record (`key_regex:`, an RE2 regex: its first capture group, or the whole match if it has
// none). A record has no key when it is not JSON (for a field), the field is missing or not a scalar, or
// the regex does not match; each plugin says what it does then.
//
// Options come from the two config fields KeyFields() declares; RecordKeyReader reads them per record.
// The reader is one plugin's; loop thread only.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "agent/config/schema.h"
#include "plugins/fields/field_path.h"

namespace re2 {
class RE2;
}

namespace ferry::plugins {

struct RecordKeySpec {
  enum class Kind { kNone, kFile, kField, kRegex };
  Kind kind = Kind::kNone;
  FieldPath field;                        // kField
  std::shared_ptr<const re2::RE2> regex;  // kRegex
  std::string text;                       // as the config wrote it, for `ferry check`
};

// `key` and `key_regex` of an options struct S with a RecordKeySpec member; at most one may be given.
// key_doc and regex_doc: their reference text, saying what the plugin does with the key.
template <typename S>
std::vector<config::Field<S>> KeyFields(RecordKeySpec S::*member, std::string_view key_doc,
                                        std::string_view regex_doc);

class RecordKeyReader {
 public:
  explicit RecordKeyReader(const RecordKeySpec& spec);
  ~RecordKeyReader();
  RecordKeyReader(const RecordKeyReader&) = delete;
  RecordKeyReader& operator=(const RecordKeyReader&) = delete;

  RecordKeySpec::Kind kind() const { return spec_.kind; }
  // The key of record, read from file; nullopt when it has none. The view lives until the next call.
  std::optional<std::string_view> Read(std::string_view file, std::string_view record);

 private:
  RecordKeySpec spec_;
  // A field's record is parsed into a DOM whose values and parse stack come from buffer_ first, both
  // pools cleared per record, so a record of ordinary size allocates nothing.
  using Pool = rapidjson::MemoryPoolAllocator<>;
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;
  static constexpr std::size_t kBufferBytes = 16 * 1024;
  std::unique_ptr<char[]> buffer_;  // 2 * kBufferBytes
  std::unique_ptr<Pool> values_;
  std::unique_ptr<Pool> stack_;
  std::unique_ptr<Document> doc_;
  ScalarBuffer scalar_{};
};

// Parses the config's text of a key_regex; nullptr and *error when it is not a valid RE2 regex.
std::shared_ptr<const re2::RE2> CompileKeyRegex(const std::string& text, std::string* error);

template <typename S>
std::vector<config::Field<S>> KeyFields(RecordKeySpec S::*member, std::string_view key_doc,
                                        std::string_view regex_doc) {
  auto taken = [member](const YAML::Node& n, const std::string& p, S& out, config::ParseContext& ctx) {
    if ((out.*member).kind == RecordKeySpec::Kind::kNone) return false;
    ctx.Fail(n, p, "give key or key_regex, not both");
    return true;
  };
  return {
      config::Field<S>{
          "key", "${file} | field path", "", key_doc, false,
          [member, taken](const YAML::Node& n, const std::string& p, S& out, config::ParseContext& ctx) {
            std::string text;
            if (!config::ReadString(n, p, ctx, text) || taken(n, p, out, ctx)) return;
            RecordKeySpec spec;
            spec.text = text;
            if (text == "${file}") {
              spec.kind = RecordKeySpec::Kind::kFile;
            } else if (text.find("${") != std::string::npos) {
              ctx.Fail(n, p, "the only variable a key takes is ${file}; other text is a field path");
              return;
            } else {
              auto parsed = FieldPath::Parse(text);
              if (!parsed) {
                ctx.Fail(n, p, "invalid field path '" + text + "': " + parsed.error().message());
                return;
              }
              spec.kind = RecordKeySpec::Kind::kField;
              spec.field = std::move(*parsed);
            }
            out.*member = std::move(spec);
          },
          [member](YAML::Emitter& e, const S& in) {
            const RecordKeySpec& spec = in.*member;
            if (spec.kind == RecordKeySpec::Kind::kFile || spec.kind == RecordKeySpec::Kind::kField) {
              e << YAML::Key << "key" << YAML::Value << spec.text;
            }
          }},
      config::Field<S>{
          "key_regex", "regex (RE2)", "", regex_doc, false,
          [member, taken](const YAML::Node& n, const std::string& p, S& out, config::ParseContext& ctx) {
            std::string text;
            if (!config::ReadString(n, p, ctx, text) || taken(n, p, out, ctx)) return;
            std::string error;
            auto regex = CompileKeyRegex(text, &error);
            if (!regex) {
              ctx.Fail(n, p, error);
              return;
            }
            RecordKeySpec spec;
            spec.kind = RecordKeySpec::Kind::kRegex;
            spec.regex = std::move(regex);
            spec.text = std::move(text);
            out.*member = std::move(spec);
          },
          [member](YAML::Emitter& e, const S& in) {
            const RecordKeySpec& spec = in.*member;
            if (spec.kind == RecordKeySpec::Kind::kRegex) {
              e << YAML::Key << "key_regex" << YAML::Value << YAML::SingleQuoted << spec.text;
            }
          }},
  };
}

}  // namespace ferry::plugins
