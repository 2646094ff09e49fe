// RefreshingCredentials: one timer, one fetch at a time.
#include "agent/aws/refreshing_credentials.h"

#include <algorithm>

#include <fmt/format.h>

#include "agent/core/masking.h"
#include "agent/core/uv_handle.h"

namespace ferry::aws {
namespace {

constexpr std::int64_t kRefreshAheadSeconds = 300;
constexpr std::uint64_t kRetryBaseMs = 1'000;
constexpr std::uint64_t kRetryCapMs = 60'000;

}  // namespace

std::int64_t RefreshingCredentials::RefreshDelaySeconds(std::int64_t remaining) {
  if (remaining <= 1) return 0;
  return remaining - std::min(kRefreshAheadSeconds, remaining / 2);
}

RefreshingCredentials::RefreshingCredentials(uv_loop_t* loop, const Clock& clock, spdlog::logger& log,
                                             std::unique_ptr<CredentialProvider> provider,
                                             TimedCredentials first)
    : loop_(loop), clock_(clock), log_(log), provider_(std::move(provider)), current_(std::move(first)) {
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  last_fetch_ms_ = last_change_ms_ = uv_now(loop_);
  if (current_.expiration) {
    ScheduleIn(static_cast<std::uint64_t>(RefreshDelaySeconds(*current_.expiration - clock_.UnixSeconds())) *
               1000);
  }
}

RefreshingCredentials::~RefreshingCredentials() {
  *alive_ = false;
}

void RefreshingCredentials::ScheduleIn(std::uint64_t ms) {
  uv_timer_start(
      &timer_, [](uv_timer_t* t) { static_cast<RefreshingCredentials*>(t->data)->Refresh(); }, ms, 0);
}

void RefreshingCredentials::Refused(std::uint64_t signed_at_ms) {
  ++counters_.refusals;
  // Signed with credentials replaced since, or a refresh is already out or failing (its timer retries).
  if (fetching_ || closed_ || signed_at_ms < last_change_ms_ || failures_in_row_ > 0) return;
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t gap =
      unchanged_streak_ == 0
          ? 0
          : std::min(kRetryCapMs, kRetryBaseMs << std::min<std::uint32_t>(unchanged_streak_ - 1, 6));
  if (now < last_fetch_ms_ + gap) {
    const std::uint64_t wait = last_fetch_ms_ + gap - now;
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_)) || uv_timer_get_due_in(&timer_) > wait) {
      ScheduleIn(wait);
    }
    return;
  }
  log_.warn("AWS refused the credentials from {} as expired; fetching new ones now", provider_->name());
  uv_timer_stop(&timer_);
  Refresh();
}

void RefreshingCredentials::Refresh() {
  if (fetching_ || closed_) return;
  fetching_ = true;
  provider_->Fetch([this, alive = alive_](Result<TimedCredentials> got) {
    if (!*alive) return;
    OnFetched(std::move(got));
  });
}

void RefreshingCredentials::OnFetched(Result<TimedCredentials> got) {
  fetching_ = false;
  last_fetch_ms_ = uv_now(loop_);
  if (closed_) return;
  const std::int64_t now = clock_.UnixSeconds();
  if (!got) {
    ++counters_.refresh_failures;
    const std::uint64_t delay =
        std::min(kRetryCapMs, kRetryBaseMs << std::min<std::uint32_t>(failures_in_row_, 6));
    ++failures_in_row_;
    const bool expired = current_.expiration && *current_.expiration <= now;
    log_.error("refreshing AWS credentials from {} failed ({}); {}; trying again in {} s", provider_->name(),
               got.error().message(),
               expired ? "the current ones have expired and requests are refused until then"
                       : "the current ones stay in use",
               delay / 1000);
    ScheduleIn(delay);
    return;
  }
  failures_in_row_ = 0;
  ++counters_.refreshes;
  const bool same = got->credentials.access_key_id == current_.credentials.access_key_id &&
                    got->credentials.secret_access_key == current_.credentials.secret_access_key &&
                    got->credentials.session_token == current_.credentials.session_token;
  unchanged_streak_ = same ? unchanged_streak_ + 1 : 0;
  if (!same) last_change_ms_ = last_fetch_ms_;
  current_ = std::move(*got);
  if (current_.expiration) {
    const std::int64_t remaining = *current_.expiration - now;
    log_.info("AWS credentials refreshed from {} (access key {}), valid for {} s", provider_->name(),
              MaskAllButLast(current_.credentials.access_key_id), remaining);
    // Credentials that arrive already (nearly) expired are retried with backoff, not in a tight loop.
    const std::int64_t delay = RefreshDelaySeconds(remaining);
    ScheduleIn(delay > 0 ? static_cast<std::uint64_t>(delay) * 1000 : kRetryBaseMs);
  } else {
    log_.info("AWS credentials refreshed from {} (access key {})", provider_->name(),
              MaskAllButLast(current_.credentials.access_key_id));
  }
}

void RefreshingCredentials::Close(std::function<void()> on_closed) {
  closed_ = true;
  provider_->Close();
  CloseHandle(&timer_, std::move(on_closed));
}

}  // namespace ferry::aws
