// OutputRegistry: the destinations a flow can send to, by the name of their config section ("kinesis",
// "firehose"). Each kind says whether a flow configures it, which AWS service it talks to, and how to
// prepare it: everything that can fail (a key pattern) is checked in Prepare, before any flow exists, and
// the result builds the Output once the service's endpoint and the flow's shared parts are known. The
// pipeline knows destinations only through this table, so a new destination is one more entry.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "agent/aws/credential_source.h"
#include "agent/aws/endpoint.h"
#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/core/memory_budget.h"
#include "agent/core/result.h"
#include "agent/delivery/output.h"
#include "agent/delivery/safekeeping.h"
#include "agent/delivery/sender.h"
#include "agent/net/http_client.h"

namespace ferry {

// What an output is built with; everything referenced outlives the output.
struct OutputContext {
  uv_loop_t* loop;
  spdlog::logger& log;
  net::HttpClient& http;
  MemoryBudget& budget;  // the flow's
  const Clock& clock;    // signing time
  aws::CredentialSource& credentials;
};

struct PreparedOutput {
  std::string kind;     // the registry name: "kinesis"
  std::string service;  // the AWS service whose endpoint it needs: "kinesis", "firehose"
  // The longest record it sends whole: the flow's framer and plugin chain cap records at it.
  std::size_t max_record_bytes = 0;
  // Builds it (once).
  std::function<std::unique_ptr<Output>(const OutputContext& ctx, aws::ServiceEndpoint endpoint,
                                        SenderOptions sender, Safekeeping keep)>
      make;
};

struct OutputKind {
  std::string_view name;
  std::string_view service;
  // Whether the flow's config names this destination.
  bool (*configured)(const config::FlowOptions& flow);
  Result<PreparedOutput> (*prepare)(const config::FlowOptions& flow, const std::string& hostname);
};

// Every kind, in the order the docs list them.
const std::vector<OutputKind>& OutputKinds();

// The flow's destination, prepared; an error names the flow and what is wrong.
Result<PreparedOutput> PrepareOutput(const config::FlowOptions& flow, const std::string& hostname);

}  // namespace ferry
