// LambdaPlugin: batches to invocations, invocations to free processes, answers to verdicts.
#include "plugins/lambda/lambda_plugin.h"

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "agent/core/callback_join.h"
#include "agent/core/repeat_filter.h"
#include "plugins/lambda/invocation_ids.h"
#include "plugins/lambda/lambda_event.h"
#include "plugins/lambda/lambda_instance.h"
#include "plugins/lambda/lambda_response.h"

namespace ferry::plugins {
namespace {

class LambdaPlugin final : public Plugin {
 public:
  LambdaPlugin(uv_loop_t* loop, spdlog::logger& log, LambdaSettings settings)
      : loop_(loop),
        log_(log),
        settings_(std::move(settings)),
        writer_(settings_.delivery_stream_arn, settings_.region),
        ids_(settings_.seed) {}

  Status Start() override {
    if (started_) return Status::Ok();
    started_ = true;
    for (std::size_t i = 0; i < settings_.instances; ++i) {
      LambdaInstance::Events events;
      events.on_ready = [this] { Dispatch(); };
      events.on_start_failed = [this](const std::string& why) { OnStartFailed(why); };
      auto instance = std::make_unique<LambdaInstance>(loop_, settings_.instance, log_, std::move(events));
      if (Status started = instance->Start(); !started) return started;
      instances_.push_back(std::move(instance));
    }
    return Status::Ok();
  }

  void Process(PluginBatch& work) override {
    const std::span<const Record> records = work.records();
    if (!started_) {
      if (Status started = Start(); !started) {
        for (std::size_t i = 0; i < records.size(); ++i) {
          work.Fail(i, "Lambda.FunctionError: " + started.error().message(), std::string(kProcessingFailed));
        }
        work.Done();
        return;
      }
    }
    if (records.empty() || closing_) {
      work.Done();
      return;
    }
    auto job = std::make_shared<Job>(Job{&work, 0});
    const std::int64_t arrival = work.batch().read_time_ms();
    std::size_t first = 0;
    std::size_t bytes = writer_.EmptyBytes();
    for (std::size_t i = 0; i < records.size(); ++i) {
      std::size_t adds = LambdaEventWriter::RecordBytes(i - first, arrival, records[i].data.size());
      if (i > first && (i - first == settings_.batch_records || bytes + adds > settings_.batch_bytes)) {
        Enqueue(job, first, i - first);
        first = i;
        bytes = writer_.EmptyBytes();
        adds = LambdaEventWriter::RecordBytes(0, arrival, records[i].data.size());
      }
      bytes += adds;
    }
    Enqueue(job, first, records.size() - first);
    Dispatch();
  }

  std::size_t max_in_flight() const override { return std::max<std::size_t>(settings_.instances, 1); }

  void Close(std::function<void()> on_closed) override {
    closing_ = true;
    queue_.clear();
    if (instances_.empty()) {
      on_closed();
      return;
    }
    auto closed = JoinCallbacks(static_cast<int>(instances_.size()), std::move(on_closed));
    for (auto& instance : instances_) instance->Close(closed);
  }

  void VisitCounters(const CounterVisitor& each) const override {
    std::uint64_t restarts = 0, timeouts = 0, running = 0;
    for (const auto& instance : instances_) {
      restarts += instance->counters().restarts;
      timeouts += instance->counters().timeouts;
      running += instance->running() ? 1 : 0;
    }
    each("invocations", invocations_);
    each("retries", retries_);
    each("restarts", restarts);
    each("timeouts", timeouts);
    each("unknown_ids", unknown_ids_);
    each("repeated_ids", repeated_ids_);
    each("processing_failed", processing_failed_);
    each("instances_running", running);
  }

 private:
  // One batch under way.
  struct Job {
    PluginBatch* work;
    std::size_t open;  // its invocations without verdicts yet
  };
  // Records [first, first + count) of a job's batch.
  struct Invocation {
    std::shared_ptr<Job> job;
    std::size_t first = 0;
    std::size_t count = 0;
    std::uint64_t failures = 0;
  };
  using InvocationRef = std::shared_ptr<Invocation>;

  void Enqueue(const std::shared_ptr<Job>& job, std::size_t first, std::size_t count) {
    ++job->open;
    queue_.push_back(std::make_shared<Invocation>(Invocation{job, first, count, 0}));
  }

  void Dispatch() {
    for (auto& instance : instances_) {
      if (queue_.empty() || closing_) return;
      if (!instance->idle()) continue;
      InvocationRef invocation = std::move(queue_.front());
      queue_.pop_front();
      const PluginBatch& work = *invocation->job->work;
      std::string request;
      writer_.Write(request, ids_.Next(), work.batch().read_time_ms(),
                    work.records().subspan(invocation->first, invocation->count));
      ++invocations_;
      instance->Invoke(std::move(request),
                       [this, invocation](LambdaAnswer answer) { OnAnswer(invocation, std::move(answer)); });
    }
  }

  void OnAnswer(const InvocationRef& invocation, LambdaAnswer answer) {
    if (!answer.answered) return Retry(invocation, std::move(answer.failure));
    auto response = ParseLambdaResponse(answer.line, invocation->count);
    if (!response) return Retry(invocation, response.error().message());
    unknown_ids_ += response->unknown_ids;
    repeated_ids_ += response->repeated_ids;
    PluginBatch& work = *invocation->job->work;
    for (std::size_t k = 0; k < invocation->count; ++k) {
      const std::size_t i = invocation->first + k;
      const LambdaRecordOutcome& outcome = response->records[k];
      switch (outcome.result) {
        case LambdaResult::kOk:
          work.Replace(i, response->bytes(k));
          break;
        case LambdaResult::kDropped:
          work.Drop(i);
          break;
        case LambdaResult::kFailed:
          ++processing_failed_;
          work.Fail(i, outcome.reason, std::string(kProcessingFailed));
          break;
      }
    }
    Finish(invocation);
  }

  void Retry(const InvocationRef& invocation, std::string failure) {
    ++invocation->failures;
    if (invocation->failures > settings_.retries) {
      // A function that fails every invocation would otherwise write a line per batch read.
      if (auto note = failures_.Admit("failed " + failure, uv_now(loop_))) {
        log_.error("flow {}: lambda: {} records failed after {} attempts: {}{}", settings_.instance.flow,
                   invocation->count, invocation->failures, failure, *note);
      }
      const std::string reason = fmt::format("{} ({} attempt{})", failure, invocation->failures,
                                             invocation->failures == 1 ? "" : "s");
      PluginBatch& work = *invocation->job->work;
      for (std::size_t k = 0; k < invocation->count; ++k) {
        work.Fail(invocation->first + k, reason, std::string(kProcessingFailed));
      }
      processing_failed_ += invocation->count;
      Finish(invocation);
      return;
    }
    ++retries_;
    if (auto note = failures_.Admit("retry " + failure, uv_now(loop_))) {
      log_.warn("flow {}: lambda: an invocation of {} records failed ({}); trying again ({} of {} retries){}",
                settings_.instance.flow, invocation->count, failure, invocation->failures, settings_.retries,
                *note);
    }
    queue_.push_front(invocation);
    Dispatch();
  }

  // A respawn failed: with no process running, nothing else would make the queue move, so the failure
  // counts as an attempt of the oldest invocation.
  void OnStartFailed(const std::string& why) {
    if (queue_.empty() || closing_) return;
    if (std::any_of(instances_.begin(), instances_.end(), [](const auto& i) { return i->running(); })) return;
    InvocationRef invocation = std::move(queue_.front());
    queue_.pop_front();
    Retry(invocation, "Lambda.FunctionError: " + why);
  }

  void Finish(const InvocationRef& invocation) {
    Job& job = *invocation->job;
    if (--job.open == 0) {
      PluginBatch* work = std::exchange(job.work, nullptr);
      work->Done();  // may hand over the next batch (Process) from here
    }
    Dispatch();
  }

  uv_loop_t* loop_;
  spdlog::logger& log_;
  LambdaSettings settings_;
  LambdaEventWriter writer_;
  InvocationIds ids_;
  std::vector<std::unique_ptr<LambdaInstance>> instances_;
  std::deque<InvocationRef> queue_;
  bool started_ = false;
  bool closing_ = false;
  std::uint64_t invocations_ = 0;
  std::uint64_t retries_ = 0;
  std::uint64_t unknown_ids_ = 0;
  std::uint64_t repeated_ids_ = 0;
  std::uint64_t processing_failed_ = 0;
  RepeatFilter failures_;  // failure lines: once a minute per kind, with a count (core/repeat_filter.h)
};

}  // namespace

std::unique_ptr<Plugin> MakeLambdaPlugin(uv_loop_t* loop, spdlog::logger& log, LambdaSettings settings) {
  return std::make_unique<LambdaPlugin>(loop, log, std::move(settings));
}

}  // namespace ferry::plugins
