// ExternalPlugin: the `external` built-in, an adapter from the Plugin interface to a plugin behind the C
// ABI (plugins/include/ferry/plugin.h).
//
// Each batch goes whole to libuv's thread pool (PoolRunner: one call at a time, so max_in_flight is 1),
// where the plugin's process() runs, so a slow plugin never holds up the loop. Its results come back to
// the loop thread, where they become verdicts: replacement bytes are copied into the batch's arena and
// reasons into the PluginBatch before the next call may overwrite them. A result the ABI does not allow (an
// unknown verdict code, none at all, a replacement with NULL data and a non-zero size, or one past 64 MiB)
// fails that record.
//
// The job on the pool reads the records' bytes, which the batch's arena holds; the job keeps a reference
// to the batch, taken and released on the loop (the pool thread never touches it), so the bytes outlive
// the call even if the chain lets go of the batch meanwhile. The instance is shared by the plugin and the
// job under way, and destroyed (on the loop) by whichever lets go last: never while process() runs.
// Loop thread only, but for ProcessJob::Work on a pool thread.
#include <cstring>

#include <fmt/format.h>

#include "agent/core/pool_runner.h"
#include "plugins/external/external_options.h"
#include "plugins/external/plugin_library.h"
#include "plugins/external/trusted_file.h"

namespace ferry::plugins {
namespace {

// The buffer create and process may write a reason into.
constexpr std::size_t kErrorBytes = 1024;
// At most this much of a record's reason is read (the header says so).
constexpr std::size_t kReasonBytes = 1024;
// A replacement larger than this is a size the plugin got wrong, not a record: far past any destination's
// record limit (Kinesis's largest is 10 MiB), and copying it could exhaust memory or read far out of bounds.
constexpr std::size_t kMaxReplacementBytes = 64 << 20;

// One instance of the plugin and the library it lives in, destroyed in that order.
struct Instance {
  std::unique_ptr<PluginLibrary> library;
  void* handle = nullptr;
  ~Instance() {
    if (handle != nullptr) library->api().destroy(handle);
  }
};

struct ProcessJob final : PoolRunner::Job {
  std::shared_ptr<Instance> instance;
  BatchRef batch;  // keeps the records' bytes alive; copied and released on the loop only
  std::string source_path;
  std::int64_t read_time_ms = 0;
  std::vector<ferry_record> records;
  std::vector<ferry_result> results;
  int status = 0;
  char error[kErrorBytes] = {};

  void Work() override {
    const ferry_batch in{records.data(), records.size(), source_path.c_str(), read_time_ms};
    error[0] = '\0';
    status = instance->library->api().process(instance->handle, &in, results.data(), error, sizeof error);
    error[sizeof error - 1] = '\0';
  }
};

class ExternalPlugin final : public Plugin {
 public:
  ExternalPlugin(std::shared_ptr<Instance> instance, uv_loop_t* loop)
      : instance_(std::move(instance)), runner_(loop) {}

  void Process(PluginBatch& work) override {
    const auto records = work.records();
    if (records.empty()) {
      work.Done();
      return;
    }
    std::unique_ptr<ProcessJob> job = spare_ ? std::move(spare_) : std::make_unique<ProcessJob>();
    job->instance = instance_;
    job->batch = work.batch_ref();
    job->source_path = work.batch().origin();
    job->read_time_ms = work.batch().read_time_ms();
    job->records.clear();
    for (const Record& r : records) job->records.push_back(ferry_record{r.data.data(), r.data.size()});
    // Zero-filled: a record the plugin leaves alone has verdict 0, which fails it.
    job->results.assign(records.size(), ferry_result{});
    runner_.Run<ProcessJob>(
        std::move(job), [this, &work](std::unique_ptr<ProcessJob> done) { Finish(work, std::move(done)); });
  }

  void Close(std::function<void()> on_closed) override { runner_.WhenIdle(std::move(on_closed)); }

 private:
  void Finish(PluginBatch& work, std::unique_ptr<ProcessJob> job) {
    const std::size_t n = job->records.size();
    if (job->status != 0) {
      const std::string why =
          job->error[0] != '\0' ? std::string(job->error) : fmt::format("process returned {}", job->status);
      for (std::size_t i = 0; i < n; ++i) work.Fail(i, why);
    } else {
      for (std::size_t i = 0; i < n; ++i) Apply(work, i, job->results[i]);
    }
    job->batch = BatchRef();
    job->instance.reset();
    spare_ = std::move(job);
    work.Done();
    runner_.RunIdleWaiters();
  }

  static void Apply(PluginBatch& work, std::size_t i, const ferry_result& result) {
    switch (result.verdict) {
      case FERRY_VERDICT_KEEP:
        work.Keep(i);
        return;
      case FERRY_VERDICT_REPLACE:
        if (result.data == nullptr && result.size != 0) {
          work.Fail(
              i, fmt::format("the plugin replaced the record with {} bytes at a null pointer", result.size));
          return;
        }
        if (result.size > kMaxReplacementBytes) {
          work.Fail(i, fmt::format("the plugin replaced the record with {} bytes, more than {} MiB",
                                   result.size, kMaxReplacementBytes >> 20));
          return;
        }
        work.Replace(i, std::string_view(result.data, result.size));
        return;
      case FERRY_VERDICT_DROP:
        work.Drop(i);
        return;
      case FERRY_VERDICT_FAIL:
        work.Fail(i, result.reason != nullptr && result.reason[0] != '\0'
                         ? std::string(result.reason, ::strnlen(result.reason, kReasonBytes))
                         : std::string("the plugin failed the record without a reason"));
        return;
      case 0:
        work.Fail(i, "the plugin gave the record no verdict");
        return;
      default:
        work.Fail(i, fmt::format("the plugin gave the record an unknown verdict ({})", result.verdict));
        return;
    }
  }

  std::shared_ptr<Instance> instance_;
  PoolRunner runner_;
  std::unique_ptr<ProcessJob> spare_;  // the last job, kept for its vectors' capacity
};

}  // namespace

Result<std::unique_ptr<Plugin>> MakeExternalPlugin(const ExternalOptions& options, const PluginEnv& env) {
  auto real = TrustedFile(options.path);
  if (!real) return Error(real.error().code(), "cannot load the plugin: " + real.error().message());
  auto library = PluginLibrary::Load(*real);
  if (!library) return library.error();
  auto instance = std::make_shared<Instance>();
  instance->library = std::move(*library);
  char error[kErrorBytes] = {};
  const ferry_plugin_api& api = instance->library->api();
  instance->handle =
      api.create(options.options_json.c_str(), options.options_json.size(), error, sizeof error);
  error[sizeof error - 1] = '\0';
  if (instance->handle == nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("plugin {} ({}) refused its options: {}", instance->library->name(),
                             instance->library->path(), error[0] != '\0' ? error : "no reason given"));
  }
  return std::unique_ptr<Plugin>(std::make_unique<ExternalPlugin>(std::move(instance), env.loop));
}

}  // namespace ferry::plugins
