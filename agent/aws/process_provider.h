// ProcessProvider: a profile's credential_process, a program that prints credentials as JSON
// ({"Version": 1, "AccessKeyId": ..., "Expiration": ...}). It runs under /bin/sh -c, as the AWS SDKs run it,
// as a child of the loop (process/child_process.h), so a slow helper never pauses delivery; it is killed
// (with whatever it started) after timeout_ms or when it prints more than 64 KiB.
#pragma once

#include <memory>
#include <string>

#include "agent/aws/credential_provider.h"
#include "agent/process/child_process.h"

namespace ferry::aws {

class ProcessProvider final : public CredentialProvider {
 public:
  // name: "profile x (credential_process)"; timeout_ms: the child is killed after this long.
  ProcessProvider(const ProviderContext& ctx, std::string name, std::string command,
                  std::uint64_t timeout_ms = 60'000);
  ~ProcessProvider() override;
  std::string name() const override { return name_; }
  void Fetch(Callback done) override;
  void Close() override;

 private:
  Result<TimedCredentials> Outcome(const process::ChildExit& exit) const;

  const ProviderContext& ctx_;
  std::string name_;
  std::string command_;
  std::uint64_t timeout_ms_;
  std::unique_ptr<process::ChildProcess> child_;  // the run under way, if any
};

}  // namespace ferry::aws
