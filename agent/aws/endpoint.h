// Endpoint: where a service is reached and how requests to it are signed (region, service name, Host).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/aws/aws_options.h"
#include "agent/core/environment.h"
#include "agent/core/result.h"

namespace ferry::aws {

struct ServiceEndpoint {
  std::string url;      // scheme://host[:port]/
  std::string host;     // the Host header, as signed: host, plus :port when not the scheme's default
  std::string region;   // SigV4 credential scope
  std::string service;  // SigV4 service name, e.g. "kinesis"
};

// A URL's parts as libcurl parses them (the parser that later connects to it); port and path may be empty.
struct UrlParts {
  std::string scheme;  // lower case
  std::string host;    // IPv6 addresses in brackets
  std::string port;
  std::string path;
};
Result<UrlParts> SplitUrl(std::string_view url);

// Region from config, then AWS_REGION, then AWS_DEFAULT_REGION; nullopt when none says (the caller then asks
// the profile and the instance metadata service).
std::optional<std::string> RegionFromConfigOrEnvironment(const AwsOptions& aws, const Environment& env);

// The DNS suffix of region's partition: amazonaws.com, amazonaws.com.cn for the China regions.
std::string_view PartitionDomain(std::string_view region);

// The endpoint of service in region; custom_url (a VPC endpoint or an emulator) replaces the standard
// https://<service>[-fips].<region>.<partition domain> when given. Errors name the URL and what is wrong.
Result<ServiceEndpoint> ResolveEndpoint(std::string_view service, std::string_view region,
                                        std::string_view custom_url, bool fips = false);

// Where a custom URL for service comes from, first found: the config key (aws.<service>_endpoint), then
// AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL. `source` names it for errors; url empty: none.
struct EndpointSetting {
  std::string url;
  std::string source;
};
EndpointSetting CustomEndpoint(std::string_view service, const std::string& config_value,
                               const Environment& env);

// aws.use_fips, or AWS_USE_FIPS_ENDPOINT=true.
bool UseFips(const AwsOptions& aws, const Environment& env);

// The endpoint of service: the custom URL of CustomEndpoint(service, configured, env) if any, else the
// standard one of region. Errors about a custom URL begin with its source ("aws.kinesis_endpoint: ...",
// "AWS_ENDPOINT_URL: ..."), so they name what to fix. What AwsAccess resolves at start and what `ferry
// check` checks (ops/preflight.h).
Result<ServiceEndpoint> ResolveServiceEndpoint(std::string_view service, const std::string& configured,
                                               std::string_view region, const Environment& env, bool fips);

}  // namespace ferry::aws
