// RefreshingCredentials: the daemon's CredentialSource. It holds the credentials the chain found and fetches
// new ones from the same provider before they expire: at expiry minus 5 minutes, or half-way through a
// lifetime shorter than 10 minutes. Until the new ones arrive the old ones keep signing, so delivery never
// waits; a failed refresh is retried with backoff. A refusal by a service (ExpiredToken) refreshes at once.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "agent/aws/credential_provider.h"
#include "agent/aws/credential_source.h"
#include "agent/core/clock.h"

namespace ferry::aws {

struct CredentialCounters {
  std::uint64_t refreshes = 0;  // fetched successfully after the first
  std::uint64_t refresh_failures = 0;
  std::uint64_t refusals = 0;  // services that refused the credentials as expired
};

class RefreshingCredentials final : public CredentialSource {
 public:
  // clock: AWS's time as ferry knows it (expirations are AWS's); first: what the chain found.
  RefreshingCredentials(uv_loop_t* loop, const Clock& clock, spdlog::logger& log,
                        std::unique_ptr<CredentialProvider> provider, TimedCredentials first);
  ~RefreshingCredentials() override;
  RefreshingCredentials(const RefreshingCredentials&) = delete;
  RefreshingCredentials& operator=(const RefreshingCredentials&) = delete;

  const Credentials& current() const override { return current_.credentials; }
  void Refused(std::uint64_t signed_at_ms) override;

  std::string provider_name() const { return provider_->name(); }
  std::optional<std::int64_t> expiration() const { return current_.expiration; }
  const CredentialCounters& counters() const { return counters_; }

  // Stops refreshing and closes the timer (and the provider's own handles); on_closed runs from the loop.
  void Close(std::function<void()> on_closed);

  // Seconds from now until a refresh, for credentials with `remaining` seconds left.
  static std::int64_t RefreshDelaySeconds(std::int64_t remaining);

 private:
  void ScheduleIn(std::uint64_t ms);
  void Refresh();
  void OnFetched(Result<TimedCredentials> got);

  uv_loop_t* loop_;
  const Clock& clock_;
  spdlog::logger& log_;
  std::unique_ptr<CredentialProvider> provider_;
  TimedCredentials current_;
  uv_timer_t timer_{};
  bool fetching_ = false;
  bool closed_ = false;
  CredentialCounters counters_;
  std::uint32_t failures_in_row_ = 0;
  std::uint64_t last_fetch_ms_ = 0;   // loop time the last fetch ended
  std::uint64_t last_change_ms_ = 0;  // loop time current_ was last replaced (or first set)
  // Fetches in a row that brought back the very key that had been refused (a provider that caches):
  // refusals then refresh with a growing gap instead of at the pace of requests.
  std::uint32_t unchanged_streak_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ferry::aws
