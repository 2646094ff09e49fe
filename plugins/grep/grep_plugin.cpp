// GrepPlugin: the `grep` built-in. A record is kept when it matches one of the include regexes (if there
// are any) and none of the exclude ones, and dropped otherwise; matched against the whole record, or with
// `field:` against the values that path selects in the record parsed as JSON (plugins/fields/).
//
// Decides synchronously. On the whole record it neither copies nor allocates; with a field, the JSON
// document and its pools are reused from record to record. Loop thread only.
#include "plugins/fields/json_record.h"
#include "plugins/grep/grep_options.h"

namespace ferry::plugins {

namespace {

class GrepPlugin final : public Plugin {
 public:
  explicit GrepPlugin(GrepOptions options)
      : options_(std::move(options)),
        json_(options_.field.empty() ? nullptr : std::make_unique<JsonRecord>()) {}

  void Process(PluginBatch& work) override {
    const auto records = work.records();
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::string_view record = records[i].data;
      if (options_.field.empty()) {
        Decide(work, i, Keeps(record));
        continue;
      }
      if (!json_->Parse(record)) {
        work.Fail(i, json_->error());
        continue;
      }
      Decide(work, i, KeepsField(json_->document()));
    }
    work.Done();
  }

 private:
  static void Decide(PluginBatch& work, std::size_t i, bool keep) {
    if (keep) {
      work.Keep(i);
    } else {
      work.Drop(i);
    }
  }

  bool Keeps(std::string_view text) const {
    if (!options_.include.empty() && !options_.include.Matches(text)) return false;
    return !options_.exclude.Matches(text);
  }

  bool KeepsField(const rapidjson::Value& doc) const {
    bool included = options_.include.empty();
    bool excluded = false;
    ScalarBuffer buffer;
    options_.field.ForEach(doc, [&](const rapidjson::Value& v) {
      const std::optional<std::string_view> text = ScalarText(v, buffer);
      if (!text) return true;
      if (!included && options_.include.Matches(*text)) included = true;
      if (options_.exclude.Matches(*text)) excluded = true;
      return !excluded;
    });
    return included && !excluded;
  }

  GrepOptions options_;
  std::unique_ptr<JsonRecord> json_;  // with a field only
};

}  // namespace

Result<std::unique_ptr<Plugin>> MakeGrepPlugin(const GrepOptions& options, const PluginEnv&) {
  if (options.include.empty() && options.exclude.empty()) {
    return Error(ErrorCode::kInvalidArgument, "grep needs include or exclude (or both)");
  }
  return std::unique_ptr<Plugin>(std::make_unique<GrepPlugin>(options));
}

}  // namespace ferry::plugins
