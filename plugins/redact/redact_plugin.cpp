// RedactPlugin: Find the spans, then one rebuild of the record in a reused buffer, copied into the batch's
// arena by Replace.
#include "plugins/redact/redact_plugin.h"

#include <string>
#include <vector>

#include "plugins/redact/json_strings.h"
#include "plugins/redact/matcher.h"
#include "plugins/redact/pattern_library.h"
#include "plugins/redact/replacement.h"

namespace ferry::plugins {

namespace {

using redact::JsonString;
using redact::Matcher;
using redact::Replacement;
using redact::Span;

class RedactPlugin final : public Plugin {
 public:
  RedactPlugin(std::unique_ptr<Matcher> matcher, std::vector<Replacement> replacements,
               std::vector<std::size_t> replacement_of, std::vector<FieldPath> fields, bool anchors_possible)
      : matcher_(std::move(matcher)),
        replacements_(std::move(replacements)),
        replacement_of_(std::move(replacement_of)),
        fields_(std::move(fields)),
        anchors_possible_(anchors_possible) {}

  void Process(PluginBatch& work) override {
    auto records = work.records();
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (fields_.empty()) {
        ProcessText(work, i, records[i].data);
      } else {
        ProcessJson(work, i, records[i].data);
      }
    }
    work.Done();
  }

 private:
  void ProcessText(PluginBatch& work, std::size_t i, std::string_view text) {
    matcher_->Find(text, spans_);
    if (spans_.empty()) {
      work.Keep(i);
      return;
    }
    out_.clear();
    Rebuild(text, out_);
    work.Replace(i, out_);
  }

  void ProcessJson(PluginBatch& work, std::size_t i, std::string_view record) {
    // Most records hold no secret anywhere: one look at the whole record spares the parse. A string's
    // secret is a secret of the record too (quotes bound every library pattern's context), unless escapes
    // hide it from the raw bytes or a regex of one's own anchors at the string's start or end.
    if (!anchors_possible_ && record.find('\\') == std::string_view::npos && !matcher_->MayMatch(record)) {
      work.Keep(i);
      return;
    }
    if (!json_.Find(record, fields_, strings_)) {
      // Not JSON: searched whole, as text, so that a secret in it never passes for want of a field.
      ProcessText(work, i, record);
      return;
    }
    out_.clear();
    std::size_t at = 0;
    for (const JsonString& s : strings_) {
      matcher_->Find(s.value, spans_);
      if (spans_.empty()) continue;
      out_.append(record.substr(at, s.begin - at));
      value_.clear();
      Rebuild(s.value, value_);
      redact::AppendJsonEscaped(out_, value_);
      at = s.end;
    }
    if (at == 0) {
      work.Keep(i);
      return;
    }
    out_.append(record.substr(at));
    work.Replace(i, out_);
  }

  // text with each of spans_ replaced, appended to out.
  void Rebuild(std::string_view text, std::string& out) const {
    std::size_t at = 0;
    for (const Span& s : spans_) {
      out.append(text.substr(at, s.begin - at));
      replacements_[replacement_of_[s.pattern]].Append(out, matcher_->pattern(s.pattern).name,
                                                       text.substr(s.begin, s.end - s.begin));
      at = s.end;
    }
    out.append(text.substr(at));
  }

  std::unique_ptr<Matcher> matcher_;
  std::vector<Replacement> replacements_;    // [0] the plugin's, then each pattern override
  std::vector<std::size_t> replacement_of_;  // by pattern
  std::vector<FieldPath> fields_;
  bool anchors_possible_;  // a regex of the user's may match at a string's edge and not in the record
  redact::JsonStrings json_;
  std::vector<JsonString> strings_;  // scratch
  std::string value_;                // scratch
  std::vector<Span> spans_;          // scratch, reused from record to record
  std::string out_;                  // scratch
};

}  // namespace

Result<std::unique_ptr<Plugin>> MakeRedactPlugin(const redact::RedactOptions& options, const PluginEnv&) {
  std::vector<Replacement> replacements;
  auto base = Replacement::Make(options.replace);
  if (!base) return base.error();
  replacements.push_back(std::move(*base));
  std::vector<std::size_t> replacement_of;
  std::vector<redact::MatcherPattern> patterns;
  bool own_regex = false;
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
      p.not_url_password = entry.name == "email";
    } else {
      p.regex = entry.regex;
      p.group = entry.group;
      own_regex = true;
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
  return std::unique_ptr<Plugin>(new RedactPlugin(std::move(*matcher), std::move(replacements),
                                                  std::move(replacement_of), options.fields, own_regex));
}

}  // namespace ferry::plugins
