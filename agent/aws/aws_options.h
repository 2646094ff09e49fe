// AwsOptions: the `aws` section of ferry.yaml, as the AWS room uses it: region, credentials, endpoints, TLS,
// proxy and timeouts. The defaults live here; the config aliases this struct (config/config.h).
#pragma once

#include <string>

#include "agent/core/units.h"
#include "agent/net/http_client.h"

namespace ferry::aws {

struct AwsOptions {
  std::string region;         // empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then IMDS
  std::string access_key_id;  // empty: the provider chain (environment, web identity, profile, ECS, IMDS)
  std::string secret_access_key;
  std::string session_token;
  std::string profile;            // empty: AWS_PROFILE, then "default"
  std::string role_arn;           // assumed (STS AssumeRole) with whatever credentials the chain found
  std::string external_id;        // sent with role_arn when the role's trust policy wants one
  std::string role_session_name;  // empty: ferry-<hostname>
  bool use_fips = false;  // FIPS endpoints (kinesis-fips.<region>.amazonaws.com); also AWS_USE_FIPS_ENDPOINT
  bool imds_v1_fallback = false;  // allow IMDSv1 when the metadata service refuses a session token
  std::string kinesis_endpoint;   // empty: AWS_ENDPOINT_URL_KINESIS, then https://kinesis.<region>.<domain>
  std::string firehose_endpoint;  // empty: AWS_ENDPOINT_URL_FIREHOSE, then https://firehose.<region>.<domain>
  std::string sts_endpoint;       // empty: AWS_ENDPOINT_URL_STS, then https://sts.<region>.<domain>
  std::string ca_file;            // PEM bundle trusted for TLS instead of the system store
  std::string proxy;              // http://[user:pass@]host:port; empty: HTTPS_PROXY / HTTP_PROXY
  std::string no_proxy;           // hosts never proxied; empty: NO_PROXY
  // The HTTP client's defaults.
  Duration connect_timeout{net::HttpClientOptions{}.connect_timeout_ms};
  Duration request_timeout{net::HttpClientOptions{}.request_timeout_ms};

  // A reload builds new AWS access when any of these differ (ops/reload_plan.h).
  bool operator==(const AwsOptions&) const = default;
};

}  // namespace ferry::aws
