// Fuzz target: ParseSharedConfig (agent/aws/shared_config), which reads ~/.aws/config and
// ~/.aws/credentials, files a user edits by hand. Any input, read as either kind, must be refused or give
// profile names and keys that are non-empty, free of surrounding whitespace, and (keys) lower-case: the
// credential chain looks them up by exact name. libFuzzer calls it on one thread.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "agent/aws/shared_config.h"

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

bool Trimmed(const std::string& s) {
  return !s.empty() && !IsSpace(s.front()) && !IsSpace(s.back());
}

bool LowerKey(const std::string& s) {
  if (!Trimmed(s)) return false;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

void Check(const std::map<std::string, ferry::aws::ProfileSettings>& sections) {
  for (const auto& [name, settings] : sections) {
    if (!Trimmed(name)) __builtin_trap();
    for (const auto& [key, value] : settings.values) {
      if (!LowerKey(key)) __builtin_trap();
    }
    for (const auto& [key, block] : settings.sub_sections) {
      if (!LowerKey(key) || settings.values.count(key) != 0) __builtin_trap();
      for (const auto& [sub_key, value] : block) {
        if (!LowerKey(sub_key)) __builtin_trap();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto kind : {ferry::aws::SharedFileKind::kConfig, ferry::aws::SharedFileKind::kCredentials}) {
    auto parsed = ferry::aws::ParseSharedConfig(text, kind, "fuzz");
    if (!parsed) {
      if (!parsed.error().message().starts_with("fuzz:")) __builtin_trap();
      continue;
    }
    Check(parsed->profiles);
    Check(parsed->sso_sessions);
    Check(parsed->services);
    if (kind == ferry::aws::SharedFileKind::kCredentials &&
        (!parsed->sso_sessions.empty() || !parsed->services.empty())) {
      __builtin_trap();
    }
  }
  return 0;
}
