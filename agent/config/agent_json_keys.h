// AgentJsonKeys: the Kinesis Agent's keys that ferry accepts without using them (each with what ferry does
// instead), the hint after an unknown key, and the agent's endpoints as ferry's URLs and region.
#pragma once

#include <string>
#include <string_view>

namespace ferry::config {

struct UnusedKey {
  std::string_view key;
  std::string_view instead;  // what ferry does instead, for the warning
};

// The global or flow key of that name ferry accepts and does not use, or null.
const UnusedKey* FindUnusedGlobal(std::string_view key);
const UnusedKey* FindUnusedFlowKey(std::string_view key);

// What ferry does instead of cloudwatch.* and of maxBufferSizeRecords / maxBufferSizeBytes.
extern const std::string_view kCloudWatchInstead;
extern const std::string_view kBufferInstead;

// " (did you mean kinesisStream?)" when an unknown key is a known one in another case, else where the keys
// are listed.
std::string UnknownKeyHint(std::string_view key, bool flow_key);

// An endpoint as the agent takes it (a host name alone means https) as ferry's URL.
std::string EndpointUrl(const std::string& endpoint);

// The region in an AWS endpoint's host name (kinesis.us-west-2.amazonaws.com, vpce-...kinesis.eu-west-1
// .vpce.amazonaws.com), or "".
std::string RegionOf(const std::string& url);

}  // namespace ferry::config
