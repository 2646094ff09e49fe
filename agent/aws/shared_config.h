// The AWS shared config and credentials files (~/.aws/config, ~/.aws/credentials), parsed the way the AWS
// SDKs read them, for the credential chain's shared-file providers (profiles, role_arn, credential_process,
// SSO). Where the SDKs skip a malformed line, ferry refuses the file instead: a guessed credential is
// worse than a clear error.
//
// Format, as the AWS SDKs and Tools reference guide and the SDKs' shared profile parsers define it:
//  - Sections: in the config file "[default]", "[profile NAME]" (also "[profile default]", which wins over
//    "[default]" when both are present), "[sso-session NAME]" and "[services NAME]"; a bare "[NAME]" is
//    ignored with a warning, as the AWS CLI ignores it. In the credentials file every section is "[NAME]"
//    taken verbatim: "[profile x]" names "profile x", which, holding whitespace, is ignored with a warning.
//    Section names are case-sensitive; names with inner whitespace are ignored with a warning.
//  - Properties: "key = value" at the start of a line; whitespace around '=' optional; keys are lower-cased
//    (the CLI treats them case-insensitively), values trimmed. A later key wins; a repeated section header
//    merges into the earlier section (and a repeated "key =" adds to that key's nested block).
//  - Comments: whole lines whose first non-blank character is '#' or ';'. On a section header line
//    anything from '#' or ';' on is a comment. On a property line only a '#' or ';' preceded by a space or
//    tab starts a comment, so "key = abc#def" keeps "abc#def" (secret keys may hold those characters).
//  - Indented lines: after "key =" with an empty value, each indented "sub_key = value" line is a nested
//    setting (sub_sections[key][sub_key]); after "key = value" an indented line continues the value (joined
//    with '\n').
//  - Errors (ErrorCode::kInvalidArgument): a property before any section, a line without '=', an empty or
//    blank-holding key, an unterminated section header or text after its ']', an indented line with no
//    property to belong to. Messages read "SOURCE:LINE: ..." and never hold a value: values may be secrets.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace ferry::aws {

struct ProfileSettings {
  std::map<std::string, std::string> values;  // lower-cased key -> trimmed value
  // "s3 =" followed by indented "max_concurrent_requests = 10" lines: {"s3": {"max_concurrent_requests":
  // "10"}}
  std::map<std::string, std::map<std::string, std::string>> sub_sections;
};

struct SharedConfig {
  std::map<std::string, ProfileSettings> profiles;      // by profile name ("default" included)
  std::map<std::string, ProfileSettings> sso_sessions;  // [sso-session NAME], config file only
  std::map<std::string, ProfileSettings> services;      // [services NAME], config file only
  // Sections skipped as the SDKs skip them ("SOURCE:LINE: ..."), for the caller to log.
  std::vector<std::string> warnings;
};

enum class SharedFileKind { kConfig, kCredentials };

// Parses the text of one file; source_name (a path, or "~/.aws/config") prefixes errors and warnings.
Result<SharedConfig> ParseSharedConfig(std::string_view text, SharedFileKind kind,
                                       const std::string& source_name);

// Reads (at most 1 MiB, see ReadWholeFile) and parses a file. A missing file is an empty SharedConfig, as
// for the SDKs: most hosts have neither file.
Result<SharedConfig> LoadSharedConfig(const std::string& path, SharedFileKind kind);

// The settings of `profile` as the SDKs merge the two files: a key in the credentials file wins over the
// same key in the config file. nullopt when neither file has the profile.
std::optional<ProfileSettings> MergedProfile(const SharedConfig& config, const SharedConfig& credentials,
                                             const std::string& profile);

}  // namespace ferry::aws
