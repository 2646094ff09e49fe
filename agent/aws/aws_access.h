// AwsAccess: what ferry needs to reach AWS, resolved once at start and kept up to date: the region (config,
// environment, profile, instance metadata), the credentials (the provider chain, an optional role on top,
// refreshed before they expire), the endpoints of the services the flows use, and the HTTP clients: one for
// AWS (proxy, CAs), one for the link-local metadata services (never proxied).
//
// Resolution runs on the caller's loop like everything else (no loop of its own, no nested uv_run): the
// daemon's one loop answers signals and the status socket while the metadata service or a
// credential_process is slow. Loop thread only.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/logger.h>

#include "agent/aws/aws_options.h"
#include "agent/aws/credential_chain.h"
#include "agent/aws/credential_provider.h"
#include "agent/aws/endpoint.h"
#include "agent/aws/instance_metadata.h"
#include "agent/aws/profile_provider.h"
#include "agent/aws/refreshing_credentials.h"
#include "agent/core/clock.h"
#include "agent/core/environment.h"
#include "agent/net/http_client.h"

namespace ferry::aws {

class AwsAccess {
 public:
  // Everything passed must outlive this object.
  AwsAccess(uv_loop_t* loop, const AwsOptions& aws, const Environment& env, const Clock& clock,
            spdlog::logger& log);
  ~AwsAccess();
  AwsAccess(const AwsAccess&) = delete;
  AwsAccess& operator=(const AwsAccess&) = delete;

  // Finds the region and the credentials (metadata services and STS may be asked) and the endpoints of the
  // services named. done runs once, on the loop (possibly before Resolve returns), with Ok or an error that
  // names what is missing and why; never after Close(), which abandons a resolution under way. Once only.
  void Resolve(bool kinesis, bool firehose, std::function<void(Status)> done);

  const std::string& region() const { return region_; }
  const ServiceEndpoint& kinesis() const { return *kinesis_; }
  const ServiceEndpoint& firehose() const { return *firehose_; }
  net::HttpClient& http() { return *http_; }
  bool has_credentials() const { return credentials_ != nullptr; }
  RefreshingCredentials& credentials() { return *credentials_; }
  const RefreshingCredentials& credentials() const { return *credentials_; }
  // "AWS region x, credentials from y (access key ****ABCD), Kinesis at ..." for the start log.
  std::string Describe() const;

  // Aborts requests in flight (and a resolution: its credential_process is killed), stops refreshing and
  // closes every handle; on_closed runs from the loop.
  void Close(std::function<void()> on_closed);

 private:
  // The steps of Resolve, each continuing in the next or ending in Finish.
  void ResolveRegion(const std::string& profile);
  void OnRegion(Result<std::string> answer);
  void ResolveEndpoints();
  void ResolveCredentials();
  void OnCredentials(Result<FoundCredentials> found);
  void OnRole(Result<TimedCredentials> first);
  void Finish(Status status);
  std::string SessionName() const;

  uv_loop_t* loop_;
  const AwsOptions& aws_;
  const Environment& env_;
  const Clock& clock_;
  spdlog::logger& log_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<net::HttpClient> metadata_http_;
  std::unique_ptr<ProviderContext> ctx_;
  // Resolution under way: what its steps share, kept until this object goes, since their callbacks may
  // still run while the HTTP clients close.
  std::function<void(Status)> resolved_;
  bool wants_kinesis_ = false;
  bool wants_firehose_ = false;
  bool closed_ = false;
  std::optional<ProfileFiles> files_;
  std::unique_ptr<InstanceMetadata> region_imds_;
  std::shared_ptr<CredentialSearch> search_;
  std::unique_ptr<CredentialProvider> provider_;  // found, until credentials_ takes it
  std::string region_;
  std::string region_source_;
  std::optional<ServiceEndpoint> kinesis_;
  std::optional<ServiceEndpoint> firehose_;
  std::optional<ServiceEndpoint> sts_;
  std::unique_ptr<RefreshingCredentials> credentials_;
  std::size_t closing_ = 0;
};

}  // namespace ferry::aws
