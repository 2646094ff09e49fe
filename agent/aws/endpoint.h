// Endpoint: where a service is reached and how requests to it are signed (region, service name, Host).
#pragma once

#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/core/environment.h"
#include "agent/core/result.h"

namespace ferry::aws {

struct ServiceEndpoint {
  std::string url;      // scheme://host[:port]/
  std::string host;     // the Host header, as signed: host, plus :port when not the scheme's default
  std::string region;   // SigV4 credential scope
  std::string service;  // SigV4 service name, e.g. "kinesis"
};

// Region from config, then AWS_REGION, then AWS_DEFAULT_REGION.
Result<std::string> ResolveRegion(const config::AwsOptions& aws, const Environment& env);

// The endpoint of service in region; custom_url (a VPC endpoint or an emulator) replaces the standard
// https://<service>.<region>.amazonaws.com when given. Errors name the URL and what is wrong with it.
Result<ServiceEndpoint> ResolveEndpoint(std::string_view service, std::string_view region,
                                        std::string_view custom_url);

}  // namespace ferry::aws
