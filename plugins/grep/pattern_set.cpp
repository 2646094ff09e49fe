// PatternSet: RE2 for one pattern, RE2::Set for several, with a per-pattern fallback for the set's DFA.
#include "plugins/grep/pattern_set.h"

#include <re2/re2.h>
#include <re2/set.h>

namespace ferry::plugins {

struct PatternSet::Compiled {
  std::vector<std::unique_ptr<re2::RE2>> each;
  std::unique_ptr<re2::RE2::Set> set;  // when there are several
};

namespace {

re2::RE2::Options Options() {
  re2::RE2::Options options;
  options.set_encoding(re2::RE2::Options::EncodingUTF8);
  options.set_log_errors(false);  // errors are returned, not printed to stderr
  return options;
}

}  // namespace

Result<PatternSet> PatternSet::Compile(const std::vector<std::string>& patterns) {
  PatternSet out;
  if (patterns.empty()) return out;
  auto compiled = std::make_shared<Compiled>();
  const re2::RE2::Options options = Options();
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    auto re = std::make_unique<re2::RE2>(patterns[i], options);
    if (!re->ok()) {
      const std::string which = patterns.size() == 1 ? "" : " (pattern " + std::to_string(i) + ")";
      return Error(ErrorCode::kInvalidArgument,
                   "invalid regex" + which + " '" + patterns[i] + "': " + re->error());
    }
    compiled->each.push_back(std::move(re));
  }
  if (patterns.size() > 1) {
    compiled->set = std::make_unique<re2::RE2::Set>(options, re2::RE2::UNANCHORED);
    for (const std::string& p : patterns) {
      std::string error;
      if (compiled->set->Add(p, &error) < 0)
        return Error(ErrorCode::kInvalidArgument, "invalid regex '" + p + "': " + error);
    }
    if (!compiled->set->Compile()) {
      return Error(ErrorCode::kInvalidArgument, "the regexes are too large together to compile into one set");
    }
  }
  out.patterns_ = patterns;
  out.compiled_ = std::move(compiled);
  return out;
}

bool PatternSet::Matches(std::string_view text) const {
  if (!compiled_) return false;
  const re2::StringPiece piece(text.data(), text.size());
  if (!compiled_->set) return re2::RE2::PartialMatch(piece, *compiled_->each.front());
  re2::RE2::Set::ErrorInfo info{};
  if (compiled_->set->Match(piece, nullptr, &info)) return true;
  if (info.kind != re2::RE2::Set::kOutOfMemory) return false;
  for (const auto& re : compiled_->each) {
    if (re2::RE2::PartialMatch(piece, *re)) return true;
  }
  return false;
}

}  // namespace ferry::plugins
