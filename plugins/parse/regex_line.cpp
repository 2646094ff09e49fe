// RegexLine: fields by an RE2 match of the whole line (see regex_line.h).
#include "plugins/parse/regex_line.h"

#include <algorithm>

namespace ferry::plugins::parse {

RegexLine::RegexLine(std::shared_ptr<const RE2> regex, std::vector<int> groups, bool dash_is_null)
    : regex_(std::move(regex)), groups_(std::move(groups)), dash_is_null_(dash_is_null) {
  int highest = groups_.empty() ? 0 : *std::max_element(groups_.begin(), groups_.end());
  submatch_.resize(static_cast<std::size_t>(highest) + 1);
}

const char* RegexLine::Match(std::string_view line, FieldValue* out) {
  if (!regex_->Match(re2::StringPiece(line.data(), line.size()), 0, line.size(), RE2::ANCHOR_BOTH,
                     submatch_.data(), static_cast<int>(submatch_.size()))) {
    return "the line does not match match_pattern";
  }
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const re2::StringPiece& g = submatch_[static_cast<std::size_t>(groups_[i])];
    if (g.data() == nullptr) {
      out[i] = {{}, true};
    } else {
      std::string_view text(g.data(), g.size());
      out[i] = dash_is_null_ ? DashIsNull(text) : FieldValue{text};
    }
  }
  return nullptr;
}

}  // namespace ferry::plugins::parse
