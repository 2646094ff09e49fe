// CredentialSource: what request signers hold instead of a copy of the credentials, so credentials that
// are refreshed (temporary ones from STS, IMDS, ECS) reach every destination at once.
#pragma once

#include <cstdint>
#include <utility>

#include "agent/aws/sigv4.h"

namespace ferry::aws {

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The credentials to sign the next request with. Valid until the next turn of the loop.
  virtual const Credentials& current() const = 0;
  // A service refused as expired the credentials of a request signed at signed_at_ms (loop time): fetch
  // fresh ones now rather than at the planned time, unless they have been replaced since.
  virtual void Refused(std::uint64_t signed_at_ms) = 0;
};

// Credentials that never change (config keys, long-term keys in tests).
class FixedCredentials final : public CredentialSource {
 public:
  explicit FixedCredentials(Credentials credentials) : credentials_(std::move(credentials)) {}
  const Credentials& current() const override { return credentials_; }
  void Refused(std::uint64_t /*signed_at_ms*/) override {}

 private:
  Credentials credentials_;
};

}  // namespace ferry::aws
