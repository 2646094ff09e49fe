// RedactOptions: patterns (names or regex maps), replace (a string, a mask or a hash), emails_in_urls.
#include "plugins/redact/redact_options.h"

#include <re2/re2.h>

#include <cctype>
#include <cstdlib>
#include <map>

#include "plugins/fields/field_path_field.h"
#include "plugins/redact/matcher.h"
#include "plugins/redact/pattern_library.h"

namespace ferry::plugins::redact {

namespace {

bool IsName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// The fields of `replace: { mask: {...} }` and `replace: { hash: {...} }`.
const std::vector<config::Field<ReplaceSpec>>& MaskFields() {
  static const std::vector<config::Field<ReplaceSpec>> fields = [] {
    std::vector<config::Field<ReplaceSpec>> f;
    f.push_back(config::CountField<ReplaceSpec>("keep_last", &ReplaceSpec::keep_last, 0, 64,
                                                "trailing characters left as they are"));
    f.push_back(config::Field<ReplaceSpec>{
        "char", "character", "*", "the mask character", false,
        [](const YAML::Node& n, const std::string& p, ReplaceSpec& out, config::ParseContext& ctx) {
          std::string value;
          if (!config::ReadString(n, p, ctx, value)) return;
          if (value.size() != 1 || static_cast<unsigned char>(value[0]) < 0x20 ||
              static_cast<unsigned char>(value[0]) > 0x7E) {
            ctx.Fail(n, p, "must be one printable ASCII character");
            return;
          }
          out.mask_char = value[0];
        },
        nullptr});
    f.push_back(config::BoolField<ReplaceSpec>("keep_separators", &ReplaceSpec::keep_separators,
                                               "spaces and punctuation stay"));
    return f;
  }();
  return fields;
}

const std::vector<config::Field<ReplaceSpec>>& HashFields() {
  static const std::vector<config::Field<ReplaceSpec>> fields = [] {
    std::vector<config::Field<ReplaceSpec>> f;
    f.push_back(
        config::StringField<ReplaceSpec>("key_file", &ReplaceSpec::key_file, "", "the HMAC key", true));
    return f;
  }();
  return fields;
}

void ParseReplace(const YAML::Node& n, const std::string& p, ReplaceSpec& out, config::ParseContext& ctx) {
  if (n.IsScalar()) {
    out = ReplaceSpec{};
    out.text = n.Scalar();  // "" is allowed: the secret is taken out and nothing put in
    return;
  }
  if (!n.IsMap() || n.size() != 1) {
    ctx.Fail(n, p, "expected a string, { mask: {...} } or { hash: { key_file: ... } }");
    return;
  }
  auto entry = *n.begin();
  std::string kind = entry.first.IsScalar() ? entry.first.Scalar() : "";
  std::string sub = config::JoinPath(p, kind);
  ReplaceSpec spec;
  if (kind == "mask") {
    spec.kind = ReplaceSpec::Kind::kMask;
    config::ParseMap(entry.second, sub, MaskFields(), spec, ctx);
  } else if (kind == "hash") {
    spec.kind = ReplaceSpec::Kind::kHash;
    config::ParseMap(entry.second, sub, HashFields(), spec, ctx);
    if (!spec.key_file.empty() && spec.key_file[0] != '/') {
      ctx.Fail(entry.second, config::JoinPath(sub, "key_file"), "must be an absolute path");
    }
  } else {
    ctx.Fail(entry.first, sub, "unknown kind of replace (known: mask, hash; or a string)");
    return;
  }
  out = std::move(spec);
}

void EmitReplace(YAML::Emitter& e, const ReplaceSpec& r) {
  switch (r.kind) {
    case ReplaceSpec::Kind::kFixed:
      e << r.text;
      return;
    case ReplaceSpec::Kind::kMask:
      e << YAML::BeginMap << YAML::Key << "mask" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
        << "keep_last" << YAML::Value << r.keep_last << YAML::Key << "char" << YAML::Value
        << std::string(1, r.mask_char) << YAML::Key << "keep_separators" << YAML::Value
        << (r.keep_separators ? "true" : "false") << YAML::EndMap << YAML::EndMap;
      return;
    case ReplaceSpec::Kind::kHash:
      e << YAML::BeginMap << YAML::Key << "hash" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
        << "key_file" << YAML::Value << r.key_file << YAML::EndMap << YAML::EndMap;
      return;
  }
}

// group: a number or a group's name in the regex.
bool ParseGroup(const YAML::Node& n, const std::string& p, const RE2& re, PatternEntry& out,
                config::ParseContext& ctx) {
  std::string text;
  if (!config::ReadString(n, p, ctx, text)) return false;
  out.group_text = text;
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() < 4) {
    int g = std::atoi(text.c_str());
    if (g > re.NumberOfCapturingGroups()) {
      ctx.Fail(n, p, "the regex has " + std::to_string(re.NumberOfCapturingGroups()) + " capture group(s)");
      return false;
    }
    out.group = g;
    return true;
  }
  const auto& named = re.NamedCapturingGroups();
  auto it = named.find(text);
  if (it == named.end()) {
    ctx.Fail(n, p, "the regex has no group named '" + text + "'");
    return false;
  }
  out.group = it->second;
  return true;
}

void ParsePatternMap(const YAML::Node& item, const std::string& p, PatternEntry& entry,
                     config::ParseContext& ctx) {
  static const char* const kKeys[] = {"regex", "name", "group", "replace"};
  for (const auto& kv : item) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known)
      ctx.Fail(kv.first, config::JoinPath(p, key),
               "unknown key (known keys here: regex, name, group, replace)");
  }
  if (item["name"]) {
    if (!config::ReadString(item["name"], config::JoinPath(p, "name"), ctx, entry.name)) return;
  }
  if (item["replace"]) {
    entry.has_replace = true;
    ParseReplace(item["replace"], config::JoinPath(p, "replace"), entry.replace, ctx);
  }
  if (!item["regex"]) {
    // A library pattern with its own replace: { name: credit_card, replace: { mask: ... } }.
    if (entry.name.empty()) {
      ctx.Fail(item, p, "needs regex: (a pattern of your own) or name: (one of " + LibraryNames() + ")");
    } else if (FindLibraryPattern(entry.name) == nullptr) {
      ctx.Fail(item["name"], config::JoinPath(p, "name"),
               "no pattern called '" + entry.name + "' (known: " + LibraryNames() + "; or give regex:)");
    }
    if (item["group"]) ctx.Fail(item["group"], config::JoinPath(p, "group"), "only a regex has groups");
    return;
  }
  std::string rp = config::JoinPath(p, "regex");
  if (!config::ReadString(item["regex"], rp, ctx, entry.regex)) return;
  if (entry.regex.empty()) {
    ctx.Fail(item["regex"], rp, "must not be empty");
    return;
  }
  RE2 re(entry.regex, RedactRegexOptions());
  if (!re.ok()) {
    ctx.Fail(item["regex"], rp, "not a valid RE2 regex: " + re.error());
    return;
  }
  if (entry.name.empty()) entry.name = "regex";
  if (!IsName(entry.name)) {
    ctx.Fail(item["name"], config::JoinPath(p, "name"),
             "letters, digits and _ only (it appears in hash tokens)");
  }
  if (item["group"]) ParseGroup(item["group"], config::JoinPath(p, "group"), re, entry, ctx);
}

void ParsePatterns(const YAML::Node& n, const std::string& p, RedactOptions& out, config::ParseContext& ctx) {
  if (!n.IsSequence() || n.size() == 0) {
    ctx.Fail(n, p, "expected a list of pattern names (" + LibraryNames() + ") and { regex: ... } entries");
    return;
  }
  std::vector<PatternEntry> entries;
  std::map<std::string, bool> library_seen;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node item = n[i];
    std::string ip = p + "[" + std::to_string(i) + "]";
    PatternEntry entry;
    if (item.IsScalar()) {
      entry.name = item.Scalar();
      if (FindLibraryPattern(entry.name) == nullptr) {
        ctx.Fail(
            item, ip,
            "no pattern called '" + entry.name + "' (known: " + LibraryNames() + "; or a map with regex:)");
        continue;
      }
    } else if (item.IsMap()) {
      ParsePatternMap(item, ip, entry, ctx);
    } else {
      ctx.Fail(item, ip, "expected a pattern name or a map with regex:");
      continue;
    }
    if (entry.regex.empty() && !entry.name.empty()) {
      if (library_seen[entry.name]) ctx.Fail(item, ip, "pattern '" + entry.name + "' given twice");
      library_seen[entry.name] = true;
    }
    entries.push_back(std::move(entry));
  }
  out.patterns = std::move(entries);
}

void EmitPatterns(YAML::Emitter& e, const RedactOptions& in) {
  e << YAML::Key << "patterns" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : in.patterns) {
    if (p.regex.empty() && !p.has_replace) {
      e << p.name;
      continue;
    }
    e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << p.name;
    if (!p.regex.empty()) e << YAML::Key << "regex" << YAML::Value << YAML::SingleQuoted << p.regex;
    if (!p.group_text.empty()) e << YAML::Key << "group" << YAML::Value << p.group_text;
    if (p.has_replace) {
      e << YAML::Key << "replace" << YAML::Value;
      EmitReplace(e, p.replace);
    }
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

std::vector<config::Field<RedactOptions>> Build() {
  std::vector<config::Field<RedactOptions>> f;
  f.push_back(config::Field<RedactOptions>{
      "patterns", "list", "",
      "what to find. Each item is the name of a library pattern (email, ipv4, ipv6, credit_card, "
      "aws_access_key_id, aws_secret_access_key, bearer_token, jwt, url_password, us_ssn, iban, phone_e164; "
      "plugins/redact/README.md says what each takes and leaves) or a map: { regex: 'password=(\\S+)', "
      "group: 1, name: password, replace: ... } where regex is RE2 syntax read as bytes (Latin-1: . is one "
      "byte), group the capture group (number or name) that is replaced (default: the whole match), name "
      "the label in hash tokens (default regex), replace this pattern's own replace; { name: credit_card, "
      "replace: ... } gives a library pattern its own replace. All patterns run in one pass over the record",
      true, ParsePatterns, EmitPatterns});
  f.push_back(config::Field<RedactOptions>{
      "replace", "string | {mask: {...}} | {hash: {...}}", "[REDACTED]",
      "what a secret becomes: a string (may be \"\"); { mask: { keep_last: 4, char: '*', keep_separators: "
      "true } } masks each letter and digit but the last keep_last (never more than half of them) and keeps "
      "spaces and punctuation unless keep_separators is false; { hash: { key_file: /etc/ferry/redact.key } } "
      "gives [name:16 hex digits of HMAC-SHA256(key, secret)], the same token for the same secret and key. "
      "The "
      "key file (absolute path, the whole file is the key, at most 4096 bytes, not empty; readable by ferry "
      "only, e.g. mode 0400) is read when the flow starts and by ferry check",
      false,
      [](const YAML::Node& n, const std::string& p, RedactOptions& out, config::ParseContext& ctx) {
        ParseReplace(n, p, out.replace, ctx);
      },
      [](YAML::Emitter& e, const RedactOptions& in) {
        e << YAML::Key << "replace" << YAML::Value;
        EmitReplace(e, in.replace);
      }});
  f.push_back(config::EnumField<RedactOptions, UrlEmails>(
      "emails_in_urls", &RedactOptions::emails_in_urls,
      {{"redact", UrlEmails::kRedact}, {"keep", UrlEmails::kKeep}}, "redact | keep",
      "keep leaves an address the email pattern finds inside a URL (scheme://... up to a blank or a quote: "
      "https://build@ci.example.com/, https://x.example/?to=a@b.example) alone; mailto:a@b.example is "
      "still redacted"));
  f.push_back(FieldPathListField<RedactOptions>(
      "fields", &RedactOptions::fields,
      "JSON field paths (a.b, a[0], headers[], headers[name == i\"cookie\"].value): only the strings they "
      "select are searched, every string inside a selected object or array too (values, not keys; numbers "
      "are not searched); the rest of the record keeps its bytes. A record that is not JSON is searched "
      "whole, as "
      "text, as it is without fields"));
  return f;
}

}  // namespace

const std::vector<config::Field<RedactOptions>>& RedactFields() {
  static const std::vector<config::Field<RedactOptions>> fields = Build();
  return fields;
}

}  // namespace ferry::plugins::redact
