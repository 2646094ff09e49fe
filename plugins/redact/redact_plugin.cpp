// RedactPlugin: Find the spans, then one rebuild of the record in a reused buffer, copied into the batch's
// arena by Replace.
#include "plugins/redact/redact_plugin.h"

#include <string>
#include <vector>

#include "plugins/redact/matcher.h"
#include "plugins/redact/pattern_library.h"
#include "plugins/redact/replacement.h"

namespace ferry::plugins {

namespace {

using redact::Matcher;
using redact::Replacement;
using redact::Span;

class RedactPlugin final : public Plugin {
 public:
  RedactPlugin(std::unique_ptr<Matcher> matcher, std::vector<Replacement> replacements,
               std::vector<std::size_t> replacement_of)
      : matcher_(std::move(matcher)),
        replacements_(std::move(replacements)),
        replacement_of_(std::move(replacement_of)) {}

  void Process(PluginBatch& work) override {
    auto records = work.records();
    for (std::size_t i = 0; i < records.size(); ++i) {
      std::string_view text = records[i].data;
      matcher_->Find(text, spans_);
      if (spans_.empty()) {
        work.Keep(i);
        continue;
      }
      out_.clear();
      std::size_t at = 0;
      for (const Span& s : spans_) {
        out_.append(text.substr(at, s.begin - at));
        replacements_[replacement_of_[s.pattern]].Append(out_, matcher_->pattern(s.pattern).name,
                                                         text.substr(s.begin, s.end - s.begin));
        at = s.end;
      }
      out_.append(text.substr(at));
      work.Replace(i, out_);
    }
    work.Done();
  }

 private:
  std::unique_ptr<Matcher> matcher_;
  std::vector<Replacement> replacements_;    // [0] the plugin's, then each pattern override
  std::vector<std::size_t> replacement_of_;  // by pattern
  std::vector<Span> spans_;                  // scratch, reused from record to record
  std::string out_;                          // scratch
};

}  // namespace

Result<std::unique_ptr<Plugin>> MakeRedactPlugin(const redact::RedactOptions& options, const PluginEnv&) {
  std::vector<Replacement> replacements;
  auto base = Replacement::Make(options.replace);
  if (!base) return base.error();
  replacements.push_back(std::move(*base));
  std::vector<std::size_t> replacement_of;
  std::vector<redact::MatcherPattern> patterns;
  for (const auto& entry : options.patterns) {
    redact::MatcherPattern p;
    p.name = entry.name;
    if (entry.regex.empty()) {
      const redact::LibraryPattern* lib = redact::FindLibraryPattern(entry.name);
      if (lib == nullptr)
        return Error(ErrorCode::kInvalidArgument, "redact: no pattern called " + entry.name);
      p.regex = lib->regex;
      p.group = redact::kFirstGroupTaken;
      p.check = lib->check;
      p.library = true;
      p.needs = lib->needs;
      p.keep_in_urls = entry.name == "email" && options.emails_in_urls == redact::UrlEmails::kKeep;
    } else {
      p.regex = entry.regex;
      p.group = entry.group;
    }
    if (entry.has_replace) {
      auto own = Replacement::Make(entry.replace);
      if (!own) return own.error();
      replacement_of.push_back(replacements.size());
      replacements.push_back(std::move(*own));
    } else {
      replacement_of.push_back(0);
    }
    patterns.push_back(std::move(p));
  }
  auto matcher = Matcher::Make(std::move(patterns));
  if (!matcher) return matcher.error();
  return std::unique_ptr<Plugin>(
      new RedactPlugin(std::move(*matcher), std::move(replacements), std::move(replacement_of)));
}

}  // namespace ferry::plugins
