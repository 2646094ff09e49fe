// Masking of secrets for anything a person may read (logs, `ferry check`, errors).
#pragma once

#include <string>
#include <string_view>

namespace ferry {

// All but the last `keep` characters replaced by '*': "AKIDEXAMPLE" -> "*******MPLE".
inline std::string MaskAllButLast(std::string_view secret, std::size_t keep = 4) {
  if (secret.size() <= keep) return std::string(secret.size(), '*');
  return std::string(secret.size() - keep, '*') + std::string(secret.substr(secret.size() - keep));
}

}  // namespace ferry
