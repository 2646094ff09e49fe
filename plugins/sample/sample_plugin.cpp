// SamplePlugin: a counter, or a key read and hashed per record; one verdict per record, no allocation.
#include "plugins/sample/sample_plugin.h"

#include "plugins/sample/key_hash.h"

namespace ferry::plugins {
namespace {

class SamplePlugin final : public Plugin {
 public:
  explicit SamplePlugin(const SampleOptions& options) : rate_(options.rate), key_(options.key) {}

  void Process(PluginBatch& work) override {
    const std::span<const Record> records = work.records();
    const std::string_view file = work.batch().origin();
    for (std::size_t i = 0; i < records.size(); ++i) {
      bool keep;
      std::optional<std::string_view> key = key_.Read(file, records[i].data);
      if (key) {
        keep = KeyHash(*key) % rate_ == 0;
      } else {
        keep = count_ % rate_ == 0;
        ++count_;
      }
      if (keep) {
        work.Keep(i);
      } else {
        work.Drop(i);
      }
    }
    work.Done();
  }

 private:
  std::uint64_t rate_;
  RecordKeyReader key_;
  std::uint64_t count_ = 0;  // records decided by the count so far
};

}  // namespace

const std::vector<config::Field<SampleOptions>>& SampleFields() {
  static const std::vector<config::Field<SampleOptions>> fields = [] {
    std::vector<config::Field<SampleOptions>> f = {config::CountField<SampleOptions>(
        "rate", &SampleOptions::rate, 1, 1'000'000'000,
        "keep one record in this many (1 keeps all); with a key, one key in this many")};
    f[0].required = true;
    for (auto& k : KeyFields<SampleOptions>(
             &SampleOptions::key,
             "${file} or a JSON field path: records with the same key are kept or dropped together (kept "
             "when "
             "FNV-1a 64 of the key, finalized with MurmurHash3's fmix64, % rate == 0); records without it "
             "are sampled by count",
             "the key is this regex's first capture group in the raw record (the whole match if it has "
             "none)")) {
      f.push_back(std::move(k));
    }
    return f;
  }();
  return fields;
}

Result<std::unique_ptr<Plugin>> MakeSamplePlugin(const SampleOptions& options, const PluginEnv&) {
  return std::unique_ptr<Plugin>(std::make_unique<SamplePlugin>(options));
}

}  // namespace ferry::plugins
