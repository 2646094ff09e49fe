// SinglelinePlugin: one search for a newline per record in the common case (a record without a newline that
// needs no trimming is kept as it is); otherwise the lines are found once, measured, and written once into
// the record's replacement buffer. Decides synchronously.
#include "plugins/singleline/singleline_plugin.h"

#include <cstring>
#include <string_view>
#include <utility>

namespace ferry::plugins {
namespace {

bool IsTrimmed(unsigned char c) {
  return c <= 0x20;
}

std::string_view Trim(std::string_view line) {
  std::size_t b = 0;
  std::size_t e = line.size();
  while (b < e && IsTrimmed(static_cast<unsigned char>(line[b]))) ++b;
  while (e > b && IsTrimmed(static_cast<unsigned char>(line[e - 1]))) --e;
  return line.substr(b, e - b);
}

class SinglelinePlugin final : public Plugin {
 public:
  explicit SinglelinePlugin(const SinglelineOptions& options) : options_(options) {}

  void Process(PluginBatch& work) override {
    const std::span<const Record> records = work.records();
    for (std::size_t i = 0; i < records.size(); ++i) One(work, i, records[i].data);
    work.Done();
  }

 private:
  void One(PluginBatch& work, std::size_t i, std::string_view data) {
    if (data.find('\n') == std::string_view::npos) {  // memchr, and safe for an empty record
      if (!options_.trim || data.empty() ||
          (!IsTrimmed(static_cast<unsigned char>(data.front())) &&
           !IsTrimmed(static_cast<unsigned char>(data.back())))) {
        work.Keep(i);
      } else {
        work.Replace(i, Trim(data));
      }
      return;
    }
    lines_.clear();
    std::size_t start = 0;
    while (true) {
      const std::size_t nl = data.find('\n', start);
      std::string_view line = data.substr(start, nl == std::string_view::npos ? nl : nl - start);
      // CRLF is one line break, trimmed or not.
      if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines_.push_back(line);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
    // Trailing empty lines go (before trimming, as Java's String.split drops them).
    while (!lines_.empty() && lines_.back().empty()) lines_.pop_back();
    std::size_t size = 0;
    for (auto& line : lines_) {
      if (options_.trim) line = Trim(line);
      size += line.size();
    }
    if (lines_.size() > 1) size += options_.separator.size() * (lines_.size() - 1);
    std::span<char> out = work.ReplaceBuffer(i, size);
    if (out.empty()) return;  // an empty result, or misuse the chain reports
    char* p = out.data();
    for (std::size_t k = 0; k < lines_.size(); ++k) {
      if (k != 0) {
        std::memcpy(p, options_.separator.data(), options_.separator.size());
        p += options_.separator.size();
      }
      std::memcpy(p, lines_[k].data(), lines_[k].size());
      p += lines_[k].size();
    }
  }

  SinglelineOptions options_;
  std::vector<std::string_view> lines_;  // of the record at hand; keeps its capacity
};

}  // namespace

const std::vector<config::Field<SinglelineOptions>>& SinglelineFields() {
  static const std::vector<config::Field<SinglelineOptions>> fields = {
      config::BoolField<SinglelineOptions>(
          "trim", &SinglelineOptions::trim,
          "remove leading and trailing whitespace (bytes up to 0x20) from every line, as the Kinesis "
          "Agent does unless given NO_TRIM; a CR before a newline goes either way"),
      config::Field<SinglelineOptions>{
          "separator", "string", "\"\"",
          "what goes between two lines: nothing, as the Kinesis Agent writes (\" \" keeps words apart; "
          "its ESCAPE_NEW_LINE is '\\\\n')",
          false,
          [](const YAML::Node& n, const std::string& p, SinglelineOptions& out, config::ParseContext& ctx) {
            std::string value;
            if (!config::ReadString(n, p, ctx, value)) return;
            if (value.find('\n') != std::string::npos) {
              ctx.Fail(n, p, "must not hold a newline (the record would not be one line)");
              return;
            }
            out.separator = std::move(value);
          },
          [](YAML::Emitter& e, const SinglelineOptions& in) {
            e << YAML::Key << "separator" << YAML::Value << YAML::DoubleQuoted << in.separator;
          }},
  };
  return fields;
}

Result<std::unique_ptr<Plugin>> MakeSinglelinePlugin(const SinglelineOptions& options, const PluginEnv&) {
  return std::unique_ptr<Plugin>(std::make_unique<SinglelinePlugin>(options));
}

}  // namespace ferry::plugins
