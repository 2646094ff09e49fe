// Flow: construction of the stage chain and its ordered shutdown.
#include "agent/pipeline/flow.h"

#include <fmt/format.h>

namespace ferry {
namespace {

TailerOptions TailerOptionsFor(const config::FlowOptions& options) {
  TailerOptions t;
  t.flow = options.name;
  t.globs = options.files;
  t.start_at = options.start_at;
  t.max_record_bytes = std::min<std::size_t>(options.max_record_bytes, kinesis::StreamPacker::MaxDataBytes());
  return t;
}

}  // namespace

Flow::Flow(const FlowContext& ctx, const config::FlowOptions& options, aws::ServiceEndpoint endpoint,
           aws::Credentials credentials)
    : name_(options.name),
      destination_(options.kinesis->stream, std::move(endpoint), std::move(credentials), ctx.clock),
      sender_(ctx.loop, ctx.log, ctx.http, destination_, SenderOptions{}),
      collector_(ctx.loop, RequestLimits{}, options.kinesis->max_age,
                 [this](std::vector<WireRecord>&& records) { sender_.Submit(std::move(records)); }),
      packer_(collector_),
      chain_(packer_),
      tailer_(ctx.loop, ctx.log, TailerOptionsFor(options), ctx.budget, ctx.acks, chain_) {}

void Flow::Start() {
  tailer_.Start();
}

void Flow::Drain(Duration timeout, std::function<void(std::size_t)> on_drained) {
  tailer_.Stop([] {});
  collector_.FlushNow();
  sender_.Drain(timeout, std::move(on_drained));
}

void Flow::Close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  closing_ = 2;
  auto closed = [this] {
    if (--closing_ == 0 && on_closed_) on_closed_();
  };
  collector_.Close(closed);
  sender_.Close(closed);
}

std::string Flow::Summary() const {
  const TailerCounters& t = tailer_.counters();
  const SenderCounters& s = sender_.counters();
  return fmt::format(
      "flow {}: files open {}, bytes read {}, records read {} (split {}, empty lines {}), records sent {}, "
      "requests {}, records retried {}, failed requests {}, unsent {}",
      name_, tailer_.open_files(), t.bytes_read, t.framing.records, t.framing.split_records,
      t.framing.empty_lines, s.records_sent, s.requests, s.records_retried, s.request_failures,
      sender_.unsent_records());
}

}  // namespace ferry
