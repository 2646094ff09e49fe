// Shared config and credentials files: a line-at-a-time parser. Each line is blank, a comment, a section
// header (column 0 '['), a property (column 0, anything else) or an indented line, which belongs to the
// property above it. See shared_config.h for the format and where ferry is stricter than the SDKs.
#include "agent/aws/shared_config.h"

#include <cstddef>
#include <utility>

#include <fmt/format.h>

#include "agent/core/whole_file.h"

namespace ferry::aws {
namespace {

constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;

// '\r' counts so that CRLF files (and stray CRs) trim like LF files.
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

bool HasBlank(std::string_view s) {
  for (char c : s) {
    if (IsBlank(c)) return true;
  }
  return false;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Cuts a trailing comment. On property lines the comment character must follow a blank, so values such
// as "abc#def" (secrets, URLs) survive whole.
std::string_view StripComment(std::string_view s, bool needs_blank) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((s[i] == '#' || s[i] == ';') && (!needs_blank || (i > 0 && IsBlank(s[i - 1])))) {
      return Trim(s.substr(0, i));
    }
  }
  return Trim(s);
}

class Parser {
 public:
  Parser(SharedFileKind kind, const std::string& source) : kind_(kind), source_(source) {}

  Result<SharedConfig> Run(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 BOM from Windows editors
    while (!text.empty()) {
      ++line_no_;
      const std::size_t end = text.find('\n');
      std::string_view line = text.substr(0, end);
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
      const std::string_view trimmed = Trim(line);
      if (trimmed.empty() || trimmed.front() == '#' || trimmed.front() == ';') continue;
      Status status = IsBlank(line.front()) ? Indented(line)
                      : line.front() == '[' ? Header(line)
                                            : Property(line);
      if (!status) return status.error();
    }
    if (saw_bare_default_) {
      if (saw_profile_default_) {
        Warn(bare_default_line_, "ignoring [default]: [profile default] takes its place");
      } else {
        out_.profiles["default"] = std::move(bare_default_);
      }
    }
    return std::move(out_);
  }

 private:
  Error Fail(std::string_view what) const {
    return Error(ErrorCode::kInvalidArgument, fmt::format("{}:{}: {}", source_, line_no_, what));
  }
  void Warn(int line, std::string_view what) {
    out_.warnings.push_back(fmt::format("{}:{}: {}", source_, line, what));
  }

  // The section's settings are parsed (and checked) but dropped.
  void Ignore(std::string_view why) {
    Warn(line_no_, why);
    ignored_ = ProfileSettings{};
    section_ = &ignored_;
  }

  Status Header(std::string_view line) {
    const std::string_view body = StripComment(line, false);
    if (body.find(']') == std::string_view::npos) return Fail("section header without its closing ']'");
    if (body.back() != ']') return Fail("text after the section header's ']'");
    const std::string_view inner = Trim(body.substr(1, body.size() - 2));
    if (inner.empty()) return Fail("section header without a name");
    key_.clear();
    if (kind_ == SharedFileKind::kCredentials) {
      if (HasBlank(inner)) {
        Ignore(
            inner.starts_with("profile")
                ? fmt::format("ignoring [{}]: the credentials file names profiles without 'profile '", inner)
                : fmt::format("ignoring [{}]: a profile name cannot hold whitespace", inner));
      } else {
        section_ = &out_.profiles[std::string(inner)];
      }
      return Status::Ok();
    }
    if (inner == "default") {
      if (!saw_bare_default_) bare_default_line_ = line_no_;
      saw_bare_default_ = true;
      section_ = &bare_default_;
      return Status::Ok();
    }
    std::size_t blank = 0;
    while (blank < inner.size() && !IsBlank(inner[blank])) ++blank;
    if (blank == inner.size()) {
      Ignore(fmt::format("ignoring [{0}]: config-file profiles are written [profile {0}]", inner));
      return Status::Ok();
    }
    const std::string_view type = inner.substr(0, blank);
    const std::string_view name = Trim(inner.substr(blank));
    if (HasBlank(name)) {
      Ignore(fmt::format("ignoring [{}]: a section name cannot hold whitespace", inner));
    } else if (type == "profile") {
      if (name == "default") saw_profile_default_ = true;
      section_ = &out_.profiles[std::string(name)];
    } else if (type == "sso-session") {
      section_ = &out_.sso_sessions[std::string(name)];
    } else if (type == "services") {
      section_ = &out_.services[std::string(name)];
    } else {
      Ignore(fmt::format("ignoring [{}]: unknown section type", inner));
    }
    return Status::Ok();
  }

  // "key = value" into key and value; `what` names the kind of line in errors, which never quote it.
  Status SplitSetting(std::string_view line, std::string_view what, std::string& key,
                      std::string_view& value) {
    const std::string_view body = StripComment(line, true);
    const std::size_t eq = body.find('=');
    if (eq == std::string_view::npos)
      return Fail(fmt::format("{} without '=' (expected 'key = value')", what));
    const std::string_view raw_key = Trim(body.substr(0, eq));
    if (raw_key.empty()) return Fail(fmt::format("{} without a key before '='", what));
    if (HasBlank(raw_key)) return Fail(fmt::format("{} whose key holds whitespace", what));
    key = Lower(raw_key);
    value = Trim(body.substr(eq + 1));
    return Status::Ok();
  }

  Status Property(std::string_view line) {
    if (section_ == nullptr) return Fail("setting before any [section] header");
    std::string key;
    std::string_view value;
    if (Status s = SplitSetting(line, "setting", key, value); !s) return s;
    // A key is a value or a nested block, never both: a value replaces a block, while "key =" (empty)
    // reopens a block the key already has, so a repeated section can add to it.
    if (!value.empty()) {
      section_->sub_sections.erase(key);
      section_->values[key] = std::string(value);
    } else if (!section_->sub_sections.contains(key)) {
      section_->values[key] = std::string();
    }
    key_ = std::move(key);
    key_opens_sub_section_ = value.empty();
    return Status::Ok();
  }

  Status Indented(std::string_view line) {
    if (section_ == nullptr) return Fail("indented line before any [section] header");
    if (key_.empty()) return Fail("indented line with no setting above it");
    if (!key_opens_sub_section_) {
      section_->values[key_].append("\n").append(Trim(line));
      return Status::Ok();
    }
    std::string key;
    std::string_view value;
    if (Status s = SplitSetting(line, fmt::format("nested setting of '{}'", key_), key, value); !s) return s;
    section_->values.erase(key_);
    section_->sub_sections[key_][key] = std::string(value);
    return Status::Ok();
  }

  const SharedFileKind kind_;
  const std::string& source_;
  int line_no_ = 0;
  SharedConfig out_;
  ProfileSettings* section_ = nullptr;  // where settings go; nullptr before the first header
  ProfileSettings ignored_;             // the sink for sections the SDKs skip
  ProfileSettings bare_default_;        // [default] in the config file, until [profile default] is ruled out
  bool saw_bare_default_ = false;
  bool saw_profile_default_ = false;
  int bare_default_line_ = 0;
  std::string key_;  // the section's last setting, which indented lines extend
  bool key_opens_sub_section_ = false;
};

}  // namespace

Result<SharedConfig> ParseSharedConfig(std::string_view text, SharedFileKind kind,
                                       const std::string& source_name) {
  return Parser(kind, source_name).Run(text);
}

Result<SharedConfig> LoadSharedConfig(const std::string& path, SharedFileKind kind) {
  const std::string_view what = kind == SharedFileKind::kConfig ? "AWS config file" : "AWS credentials file";
  auto file = ReadWholeFile(path, kMaxFileBytes, what);
  if (!file) {
    if (file.error().code() == ErrorCode::kNotFound) return SharedConfig{};
    return file.error();
  }
  if (file->too_large) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("{} {}: larger than 1 MiB", what, path));
  }
  return ParseSharedConfig(file->bytes, kind, path);
}

std::optional<ProfileSettings> MergedProfile(const SharedConfig& config, const SharedConfig& credentials,
                                             const std::string& profile) {
  const auto from_config = config.profiles.find(profile);
  const auto from_credentials = credentials.profiles.find(profile);
  if (from_config == config.profiles.end() && from_credentials == credentials.profiles.end()) {
    return std::nullopt;
  }
  ProfileSettings merged;
  if (from_config != config.profiles.end()) merged = from_config->second;
  if (from_credentials != credentials.profiles.end()) {
    // A key is one setting whether it holds a value or a nested block; the credentials file's form wins
    // whole.
    for (const auto& [key, value] : from_credentials->second.values) {
      merged.sub_sections.erase(key);
      merged.values[key] = value;
    }
    for (const auto& [key, block] : from_credentials->second.sub_sections) {
      merged.values.erase(key);
      merged.sub_sections[key] = block;
    }
  }
  return merged;
}

}  // namespace ferry::aws
