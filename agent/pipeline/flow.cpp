// Flow: construction of the stage chain and its ordered shutdown.
#include "agent/pipeline/flow.h"

#include <algorithm>

#include <fmt/format.h>

#include "agent/core/callback_join.h"
#include "agent/core/uv_handle.h"

namespace ferry {
namespace {

// The plugins' rejected records go to the flow's dead-letter file, as the sender's refused ones do.
RejectSink DeadLetterSink(DeadLetterWriter* writer, std::string flow, spdlog::logger& log) {
  if (writer == nullptr) return nullptr;
  return [writer, flow = std::move(flow), &log](std::vector<RejectedRecord> records,
                                                std::function<void(Status)> done) {
    std::vector<std::string> sources;
    sources.reserve(records.size());
    std::vector<DeadLetter> letters;
    letters.reserve(records.size());
    for (const auto& r : records) {
      sources.push_back(fmt::format("plugin {}", r.plugin));
      letters.push_back(DeadLetter{flow, sources.back(), r.code, r.reason, {}, {}, r.data, 1});
    }
    // The lines are made before Write returns; the disk work runs off the loop and reports later.
    writer->Write(
        letters, [writer, flow, count = records.size(), &log, done = std::move(done)](Status written) {
          if (!written) {
            log.error(
                "flow {}: {} records the plugins refused could not be written to {}: {}; they stay unsent "
                "and unacknowledged",
                flow, count, writer->path(), written.error().message());
          }
          done(std::move(written));
        });
  };
}

}  // namespace

Flow::Flow(const FlowContext& ctx, Parts parts, aws::ServiceEndpoint endpoint,
           aws::CredentialSource& credentials)
    : loop_(ctx.loop),
      name_(std::move(parts.name)),
      budget_(std::move(parts.budget)),
      dead_letters_(parts.keep.dead_letters.get()),
      output_([&] {
        parts.sender.credentials_refused = [&credentials](std::uint64_t signed_at) {
          credentials.Refused(signed_at);
        };
        return parts.output.make(OutputContext{ctx.loop, ctx.log, ctx.http, *budget_, ctx.clock, credentials},
                                 std::move(endpoint), std::move(parts.sender), std::move(parts.keep));
      }()),
      chain_(output_->input(), parts.output.max_record_bytes, DeadLetterSink(dead_letters_, name_, ctx.log),
             budget_.get()),
      source_(parts.source(SourceContext{ctx.loop, ctx.log, ctx.clock, *budget_, ctx.acks, chain_})) {
  for (auto& stage : parts.plugins) chain_.Add(std::move(stage));
  uv_timer_init(loop_, &drain_timer_);
  drain_timer_.data = this;
}

Flow::~Flow() = default;

void Flow::Start() {
  output_->Start();
  StartReading();
}

void Flow::StartReading() {
  if (reading_ || draining_) return;
  reading_ = true;
  source_->Start();
}

void Flow::Drain(Duration timeout, std::function<void(std::size_t)> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  source_->Stop([this] {
    source_stopped_ = true;
    if (on_source_stopped_) on_source_stopped_();
  });
  drain_deadline_ = uv_now(loop_) + static_cast<std::uint64_t>(std::max<Duration::rep>(timeout.count(), 0));
  // The plugins finish what they hold first, for at most the timeout; what they still hold then stays
  // unacknowledged, in the source past its checkpoint.
  uv_timer_start(
      &drain_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Flow*>(t->data);
        self->DrainOutput(Duration(0));
      },
      static_cast<std::uint64_t>(std::max<Duration::rep>(timeout.count(), 0)), 0);
  chain_.Drain([this] {
    const std::uint64_t now = uv_now(loop_);
    DrainOutput(Duration(drain_deadline_ > now ? static_cast<Duration::rep>(drain_deadline_ - now) : 0));
  });
}

void Flow::DrainOutput(Duration timeout) {
  if (output_draining_) return;
  output_draining_ = true;
  uv_timer_stop(&drain_timer_);
  output_->Drain(timeout, [this](std::size_t undelivered) {
    // After the last acknowledgements are in.
    auto persisted = [this, undelivered] {
      auto done = std::move(on_drained_);
      if (done) done(undelivered);
    };
    if (reading_) {
      source_->Persist(persisted);
    } else {
      persisted();
    }
  });
}

void Flow::Close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  // The stages close from wherever their last callback comes (an aborted request's answer, say). The timer
  // closes last: its close callback runs from the loop's close phase, on a clean stack, so on_closed may
  // destroy the flow while nothing of it is still running.
  auto stages_closed = JoinCallbacks(3, [this] {
    CloseHandle(&drain_timer_, [this] {
      auto done = std::move(on_closed_);
      if (done) done();
    });
  });
  if (source_stopped_) {
    stages_closed();
  } else {
    on_source_stopped_ = stages_closed;
  }
  chain_.Close(stages_closed);
  output_->Close(stages_closed);
}

std::string Flow::Summary() const {
  std::string plugins;
  if (chain_.size() > 0) plugins = fmt::format(", dropped by plugins {}", chain_.dropped());
  return fmt::format("flow {}: {}{}, {}", name_, source_->Summary(), plugins, output_->Summary());
}

std::vector<NamedCounter> Flow::Counters() const {
  std::vector<NamedCounter> out;
  source_->AppendCounters(out);
  out.emplace_back("plugin_dropped", chain_.dropped());
  out.emplace_back("plugin_dead_letter_failures", chain_.counters().dead_letter_failures);
  output_->AppendCounters(out);
  return out;
}

}  // namespace ferry
