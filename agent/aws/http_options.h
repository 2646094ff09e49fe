// HTTP client options for talking to AWS: the trusted CAs, the proxy and the timeouts, from the aws section
// of the config and the standard proxy variables. Metadata services (IMDS, ECS) get the same without proxy.
#pragma once

#include "agent/aws/aws_options.h"
#include "agent/core/environment.h"
#include "agent/core/result.h"
#include "agent/net/http_client.h"

namespace ferry::aws {

// The proxy of https:// URLs is aws.proxy, else HTTPS_PROXY, https_proxy, ALL_PROXY, all_proxy; of http://
// URLs aws.proxy, else HTTP_PROXY, http_proxy, ALL_PROXY, all_proxy. No-proxy hosts: aws.no_proxy, else
// NO_PROXY, no_proxy. Errors name the key or variable at fault (an unreadable or non-PEM aws.ca_file, a
// proxy that is not an http:// or https:// URL), with any proxy password masked: every problem found, one
// per line, each line beginning with its key or variable ("aws.ca_file /etc/x.pem: ...", "aws.proxy: ...",
// "HTTPS_PROXY: ..."), which is how ferry check locates them in the config (ops/preflight.h).
Result<net::HttpClientOptions> AwsHttpOptions(const AwsOptions& aws, const Environment& env);

// For the link-local metadata services: never through a proxy, which could not reach them, and with short
// timeouts (1 s to connect, 2 s per request, or the AWS ones when those are shorter): off EC2 and ECS
// nothing answers there, and the credential chain should move on quickly.
net::HttpClientOptions MetadataHttpOptions(const net::HttpClientOptions& aws);

}  // namespace ferry::aws
