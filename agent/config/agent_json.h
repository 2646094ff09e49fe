// AgentJson: an unmodified Amazon Kinesis Agent agent.json (/etc/aws-kinesis/agent.json) read as a ferry
// config. It is converted into the equivalent ferry.yaml text, commented key by key, and that text is parsed
// by ferry's own parser (config.h), so a flow from an agent.json runs exactly as the same flow written in
// ferry.yaml: nothing downstream knows where the config came from. `ferry check --convert` prints the text.
//
// Which file is which: a config whose first character after spaces, a byte-order mark and comments is '{'
// is an agent.json (a JSON object with "flows"); ferry.yaml is never written that way. So a file is told by
// its content, not its name, and `-c <(...)` works for both.
//
// Every key the agent documents is known. A key ferry maps is converted (the comment in the converted text
// names it); a key ferry treats differently is accepted and warned about once, naming the key and what ferry
// does instead; a processing option ferry has no plugin for, and any key the agent does not know, is an
// error. Errors and warnings begin "file:line:column: key:", the position being that of the key's value in
// the agent.json (for values ferry's parser refuses after conversion too). The reasons for each mapping
// are in docs/NOTES.md (stage 11) and man ferry.yaml(5), AGENT.JSON.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/result.h"

namespace ferry::config {

bool LooksLikeAgentJson(std::string_view text);

struct AgentJsonConversion {
  std::string yaml;                   // the equivalent ferry.yaml, commented; `ferry check` accepts it
  std::vector<std::string> warnings;  // one per key ferry treats differently: "file:line:col: key: ..."
  // Where each ferry key of yaml came from: ferry key path ("flows[0].multiline.start") -> "file:line:col:
  // agent key" ("agent.json:7:33: flows[0].multiLineStartPattern").
  std::map<std::string, std::string, std::less<>> origins;
};

// Converts the agent.json text (source_name names it in messages). Fails with every error found, one per
// line, when the agent.json is not valid JSON or a key is unknown, of the wrong type, out of the agent's
// range, or has no ferry equivalent.
Result<AgentJsonConversion> ConvertAgentJson(std::string_view text, const std::string& source_name);

// Converts and parses: the Config ferry runs, its warnings in Config::warnings and its locations pointing
// into the agent.json. Errors of ferry's parser about converted keys are reported at the agent.json key
// they came from.
Result<Config> ParseAgentJson(std::string_view text, const std::string& source_name);

}  // namespace ferry::config
