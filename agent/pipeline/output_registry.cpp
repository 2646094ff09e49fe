// OutputRegistry: the Kinesis and Firehose entries.
#include "agent/pipeline/output_registry.h"

#include <fmt/format.h>

#include "agent/firehose/firehose_output.h"
#include "agent/kinesis/kinesis_output.h"

namespace ferry {
namespace {

Result<PreparedOutput> PrepareKinesis(const config::FlowOptions& flow, const std::string& hostname) {
  auto parts = kinesis::KinesisOutput::Prepare(*flow.kinesis, flow.name, hostname);
  if (!parts) return parts.error();
  PreparedOutput out{"kinesis", "kinesis", parts->max_record_bytes, nullptr};
  // Shared, so the builder stays copyable (std::function) while the parts move in once.
  auto held = std::make_shared<kinesis::KinesisOutput::Parts>(std::move(*parts));
  out.make = [held, options = *flow.kinesis, name = flow.name](const OutputContext& ctx,
                                                               aws::ServiceEndpoint endpoint,
                                                               SenderOptions sender, Safekeeping keep) {
    return std::unique_ptr<Output>(std::make_unique<kinesis::KinesisOutput>(
        ctx.loop, ctx.log, ctx.http, ctx.budget, ctx.clock, name, options, std::move(*held),
        std::move(endpoint), ctx.credentials, std::move(sender), std::move(keep)));
  };
  return out;
}

Result<PreparedOutput> PrepareFirehose(const config::FlowOptions& flow, const std::string&) {
  auto parts = firehose::FirehoseOutput::Prepare(*flow.firehose);
  PreparedOutput out{"firehose", "firehose", parts.max_record_bytes, nullptr};
  out.make = [parts, options = *flow.firehose](const OutputContext& ctx, aws::ServiceEndpoint endpoint,
                                               SenderOptions sender, Safekeeping keep) {
    return std::unique_ptr<Output>(std::make_unique<firehose::FirehoseOutput>(
        ctx.loop, ctx.log, ctx.http, ctx.budget, ctx.clock, options, parts, std::move(endpoint),
        ctx.credentials, std::move(sender), std::move(keep)));
  };
  return out;
}

}  // namespace

const std::vector<OutputKind>& OutputKinds() {
  static const std::vector<OutputKind> kinds = {
      {"kinesis", "kinesis", [](const config::FlowOptions& f) { return f.kinesis.has_value(); },
       &PrepareKinesis},
      {"firehose", "firehose", [](const config::FlowOptions& f) { return f.firehose.has_value(); },
       &PrepareFirehose},
  };
  return kinds;
}

Result<PreparedOutput> PrepareOutput(const config::FlowOptions& flow, const std::string& hostname) {
  for (const OutputKind& kind : OutputKinds()) {
    if (!kind.configured(flow)) continue;
    auto prepared = kind.prepare(flow, hostname);
    if (!prepared) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("flows '{}': {}", flow.name, prepared.error().message()));
    }
    return prepared;
  }
  return Error(ErrorCode::kInvalidArgument, fmt::format("flows '{}': no destination", flow.name));
}

}  // namespace ferry
