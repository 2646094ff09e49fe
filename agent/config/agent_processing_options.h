// AgentProcessingOptions: a flow's `dataProcessingOptions` of an agent.json as ferry plugins: SINGLELINE
// -> singleline, CSVTOJSON -> parse (csv), LOGTOJSON -> parse (the log format, matchPattern,
// customFieldNames; lines that do not parse dropped, as the agent drops them). ADDMETADATA, ADDEC2METADATA,
// ADDBRACKETS and USINGPLUGGIN have no ferry plugin yet: each is an error naming it and what to use.
#pragma once

#include <string>

#include "agent/config/agent_json_context.h"
#include "agent/config/located_json.h"

namespace ferry::config {

// Appends the `plugins:` section (or nothing, for an empty list) of the flow whose agent key is agent_flow
// ("flows[0]") and ferry path ferry_flow ("flows[0]") to yaml, indented for a flow's keys.
void ConvertProcessingOptions(const JsonValue& options, const std::string& agent_flow,
                              const std::string& ferry_flow, AgentJsonContext& ctx, std::string& yaml);

}  // namespace ferry::config
