// ThrottlePlugin: per record, the key is read and hashed and its bucket asked for a token; the loop's time
// is read once per batch (a batch is read in one go, so its records arrive at one instant).
#include "plugins/throttle/throttle_plugin.h"

#include <utility>

#include "plugins/sample/key_hash.h"
#include "plugins/throttle/token_buckets.h"

namespace ferry::plugins {
namespace {

class ThrottlePlugin final : public Plugin {
 public:
  ThrottlePlugin(const ThrottleOptions& o, std::function<std::uint64_t()> now_ms)
      : now_ms_(std::move(now_ms)),
        key_(o.key),
        buckets_(o.rate, static_cast<std::uint64_t>(o.per.count()), o.burst == 0 ? o.rate : o.burst,
                 static_cast<std::size_t>(o.max_keys)) {}

  void Process(PluginBatch& work) override {
    const std::uint64_t now = now_ms_();
    const std::span<const Record> records = work.records();
    const std::string_view file = work.batch().origin();
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::uint64_t key = KeyHash(key_.Read(file, records[i].data).value_or(std::string_view()));
      if (buckets_.Take(key, now)) {
        work.Keep(i);
      } else {
        work.Drop(i);
      }
    }
    work.Done();
  }

 private:
  std::function<std::uint64_t()> now_ms_;
  RecordKeyReader key_;
  TokenBuckets buckets_;
};

constexpr std::uint64_t kMaxRate = 1'000'000'000;

}  // namespace

const std::vector<config::Field<ThrottleOptions>>& ThrottleFields() {
  static const std::vector<config::Field<ThrottleOptions>> fields = [] {
    std::vector<config::Field<ThrottleOptions>> f = {
        config::CountField<ThrottleOptions>("rate", &ThrottleOptions::rate, 1, kMaxRate,
                                            "records let through per `per`, per key; the excess is dropped "
                                            "and counted"),
        config::DurationField<ThrottleOptions>("per", &ThrottleOptions::per, std::chrono::milliseconds(1),
                                               std::chrono::hours(1), "the period `rate` is counted over"),
        config::CountField<ThrottleOptions>("burst", &ThrottleOptions::burst, 0, kMaxRate,
                                            "records a key may send at once after a quiet spell (its "
                                            "bucket's size); 0: rate"),
        config::CountField<ThrottleOptions>("max_keys", &ThrottleOptions::max_keys, 1, 1'000'000,
                                            "keys tracked at once; a new key past this evicts the least "
                                            "recently seen one, which starts again with a full bucket"),
    };
    f[0].required = true;
    for (auto& k : KeyFields<ThrottleOptions>(
             &ThrottleOptions::key,
             "${file} or a JSON field path: each key has its own limit; records without it share one "
             "(no key: one limit for the whole flow)",
             "each value of this regex's first capture group in the raw record (the whole match if it has "
             "none) has its own limit")) {
      f.push_back(std::move(k));
    }
    return f;
  }();
  return fields;
}

std::unique_ptr<Plugin> MakeThrottlePlugin(const ThrottleOptions& options,
                                           std::function<std::uint64_t()> now_ms) {
  return std::make_unique<ThrottlePlugin>(options, std::move(now_ms));
}

Result<std::unique_ptr<Plugin>> MakeThrottlePlugin(const ThrottleOptions& options, const PluginEnv& env) {
  uv_loop_t* loop = env.loop;
  return MakeThrottlePlugin(options, [loop] { return static_cast<std::uint64_t>(uv_now(loop)); });
}

}  // namespace ferry::plugins
