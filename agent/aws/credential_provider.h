// CredentialProvider: one place AWS credentials come from (the environment, a profile, STS, the ECS or EC2
// metadata service). Fetching is asynchronous on the loop, so refreshing never pauses delivery.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <spdlog/logger.h>

#include "agent/aws/sigv4.h"
#include "agent/core/clock.h"
#include "agent/core/environment.h"
#include "agent/core/result.h"
#include "agent/net/http_client.h"

namespace ferry::aws {

struct TimedCredentials {
  Credentials credentials;
  std::optional<std::int64_t> expiration;  // Unix seconds (AWS's clock); none: they do not expire
};

// What providers may use. Everything outlives the providers.
struct ProviderContext {
  uv_loop_t* loop;
  net::HttpClient& http;      // requests to AWS (STS): the configured proxy and CAs
  net::HttpClient& metadata;  // the link-local metadata services (ECS, IMDS): never a proxy
  const Clock& clock;         // AWS's time as far as ferry knows it: signing STS requests, expirations
  const Environment& env;
  spdlog::logger& log;
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // For logs and errors: "environment", "profile prod (credential_process)", "EC2 instance metadata", ...
  virtual std::string name() const = 0;
  using Callback = std::function<void(Result<TimedCredentials>)>;
  // Fetches fresh credentials; done runs exactly once, on the loop (possibly before Fetch returns). Errors
  // say why in words a person can act on, never with a secret in them. One fetch at a time.
  virtual void Fetch(Callback done) = 0;
  // Stops what is running (a child process, a timer) so the loop can end; done is not called afterwards.
  // Requests through the HttpClients end when those clients close.
  virtual void Close() {}
};

// Credentials known up front: config keys, the environment, a profile's keys.
class StaticProvider final : public CredentialProvider {
 public:
  StaticProvider(std::string name, Credentials credentials)
      : name_(std::move(name)), credentials_(std::move(credentials)) {}
  std::string name() const override { return name_; }
  void Fetch(Callback done) override { done(TimedCredentials{credentials_, std::nullopt}); }

 private:
  std::string name_;
  Credentials credentials_;
};

}  // namespace ferry::aws
