// AwsAccess: what ferry needs to reach AWS, resolved once at start and kept up to date: the region (config,
// environment, profile, instance metadata), the credentials (the provider chain, an optional role on top,
// refreshed before they expire), the endpoints of the services the flows use, and the HTTP clients: one for
// AWS (proxy, CAs), one for the link-local metadata services (never proxied).
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/logger.h>

#include "agent/aws/credential_provider.h"
#include "agent/aws/endpoint.h"
#include "agent/aws/profile_provider.h"
#include "agent/aws/refreshing_credentials.h"
#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/core/environment.h"
#include "agent/net/http_client.h"

namespace ferry::aws {

class AwsAccess {
 public:
  // Everything passed must outlive this object.
  AwsAccess(uv_loop_t* loop, const config::AwsOptions& aws, const Environment& env, const Clock& clock,
            spdlog::logger& log);
  ~AwsAccess();
  AwsAccess(const AwsAccess&) = delete;
  AwsAccess& operator=(const AwsAccess&) = delete;

  // Runs the loop until the region and the credentials are known (metadata services and STS may be asked).
  // Only the endpoints of the services named are resolved. Errors name what is missing and why.
  Status Resolve(bool kinesis, bool firehose);

  const std::string& region() const { return region_; }
  const ServiceEndpoint& kinesis() const { return *kinesis_; }
  const ServiceEndpoint& firehose() const { return *firehose_; }
  net::HttpClient& http() { return *http_; }
  bool has_credentials() const { return credentials_ != nullptr; }
  RefreshingCredentials& credentials() { return *credentials_; }
  const RefreshingCredentials& credentials() const { return *credentials_; }
  // "AWS region x, credentials from y (access key ****ABCD), Kinesis at ..." for the start log.
  std::string Describe() const;

  // Aborts requests in flight, stops refreshing and closes every handle; on_closed runs from the loop.
  void Close(std::function<void()> on_closed);

 private:
  Status ResolveRegion(const ProfileFiles& files, const std::string& profile);
  Status ResolveCredentials(const ProfileFiles& files);
  // Runs the loop until *done is true.
  Status RunUntil(const bool& done, const char* what);

  uv_loop_t* loop_;
  const config::AwsOptions& aws_;
  const Environment& env_;
  const Clock& clock_;
  spdlog::logger& log_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<net::HttpClient> metadata_http_;
  std::unique_ptr<ProviderContext> ctx_;
  std::string region_;
  std::string region_source_;
  std::optional<ServiceEndpoint> kinesis_;
  std::optional<ServiceEndpoint> firehose_;
  std::optional<ServiceEndpoint> sts_;
  std::unique_ptr<RefreshingCredentials> credentials_;
  std::size_t closing_ = 0;
};

}  // namespace ferry::aws
