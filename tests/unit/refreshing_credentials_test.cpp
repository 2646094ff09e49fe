// Tests of RefreshingCredentials (agent/aws/refreshing_credentials): when it refreshes, that the old
// credentials keep signing while a refresh is out or has failed, and that refusals are coalesced.
#include "agent/aws/refreshing_credentials.h"

#include <catch2/catch.hpp>

#include <deque>

#include "tests/unit/provider_harness.h"

namespace ferry::aws {
namespace {

using testing::ProviderHarness;

// Answers each fetch from a script, after `delay_ms` of loop time.
class ScriptedProvider final : public CredentialProvider {
 public:
  ScriptedProvider(uv_loop_t* loop, std::uint64_t delay_ms) : loop_(loop), delay_ms_(delay_ms) {
    uv_timer_init(loop_, &timer_);
    timer_.data = this;
  }
  ~ScriptedProvider() override = default;
  std::string name() const override { return "scripted"; }
  void Fetch(Callback done) override {
    ++fetches;
    pending_ = std::move(done);
    uv_timer_start(
        &timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<ScriptedProvider*>(t->data);
          Result<TimedCredentials> next = Error(ErrorCode::kNetwork, "script ran out");
          if (!self->script.empty()) {
            next = std::move(self->script.front());
            self->script.pop_front();
          }
          auto done = std::move(self->pending_);
          done(std::move(next));
        },
        delay_ms_, 0);
  }
  void Close() override { uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr); }

  std::deque<Result<TimedCredentials>> script;
  int fetches = 0;

 private:
  uv_loop_t* loop_;
  std::uint64_t delay_ms_;
  uv_timer_t timer_{};
  Callback pending_;
};

TimedCredentials Creds(const char* id, std::optional<std::int64_t> expiration) {
  return TimedCredentials{{id, "secret", "token"}, expiration};
}

// Runs the loop for `ms` of loop time.
void RunFor(uv_loop_t* loop, std::uint64_t ms) {
  uv_timer_t stop;
  uv_timer_init(loop, &stop);
  stop.data = loop;
  uv_timer_start(
      &stop, [](uv_timer_t* t) { uv_stop(static_cast<uv_loop_t*>(t->data)); }, ms, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
}

TEST_CASE("Refresh 5 minutes ahead, or half-way through a short lifetime", "[aws][refresh]") {
  CHECK(RefreshingCredentials::RefreshDelaySeconds(3600) == 3300);
  CHECK(RefreshingCredentials::RefreshDelaySeconds(601) == 301);
  CHECK(RefreshingCredentials::RefreshDelaySeconds(600) == 300);
  CHECK(RefreshingCredentials::RefreshDelaySeconds(20) == 10);
  CHECK(RefreshingCredentials::RefreshDelaySeconds(3) == 2);
  CHECK(RefreshingCredentials::RefreshDelaySeconds(1) == 0);
  CHECK(RefreshingCredentials::RefreshDelaySeconds(-50) == 0);
}

TEST_CASE("Credentials are replaced before they expire; the old ones sign meanwhile", "[aws][refresh]") {
  ProviderHarness h;
  auto provider = std::make_unique<ScriptedProvider>(&h.loop, 300);
  ScriptedProvider& script = *provider;
  script.script.push_back(Creds("AKIDSECOND", h.clock.now + 2));
  // 2 s of life: refreshed after 1 s; the fetch takes 300 ms, during which the first ones are still used.
  RefreshingCredentials creds(&h.loop, h.clock, *h.log, std::move(provider),
                              Creds("AKIDFIRST", h.clock.now + 2));
  CHECK(creds.current().access_key_id == "AKIDFIRST");
  RunFor(&h.loop, 1150);
  CHECK(script.fetches == 1);
  CHECK(creds.current().access_key_id == "AKIDFIRST");
  RunFor(&h.loop, 300);
  CHECK(creds.current().access_key_id == "AKIDSECOND");
  CHECK(creds.counters().refreshes == 1);
  creds.Close([] {});
  uv_run(&h.loop, UV_RUN_DEFAULT);
}

TEST_CASE("A failed refresh keeps the current credentials and is retried", "[aws][refresh]") {
  ProviderHarness h;
  auto provider = std::make_unique<ScriptedProvider>(&h.loop, 10);
  ScriptedProvider& script = *provider;
  script.script.push_back(Error(ErrorCode::kNetwork, "STS is down"));
  script.script.push_back(Creds("AKIDSECOND", h.clock.now + 3600));
  RefreshingCredentials creds(&h.loop, h.clock, *h.log, std::move(provider),
                              Creds("AKIDFIRST", h.clock.now + 1));
  RunFor(&h.loop, 200);  // refresh at once (1 s left), fails
  CHECK(script.fetches == 1);
  CHECK(creds.counters().refresh_failures == 1);
  CHECK(creds.current().access_key_id == "AKIDFIRST");
  RunFor(&h.loop, 1200);  // retried after 1 s
  CHECK(script.fetches == 2);
  CHECK(creds.current().access_key_id == "AKIDSECOND");
  creds.Close([] {});
  uv_run(&h.loop, UV_RUN_DEFAULT);
}

TEST_CASE("A refusal of the current credentials refreshes at once; of replaced ones, not", "[aws][refresh]") {
  ProviderHarness h;
  auto provider = std::make_unique<ScriptedProvider>(&h.loop, 50);
  ScriptedProvider& script = *provider;
  script.script.push_back(Creds("AKIDSECOND", std::nullopt));
  uv_update_time(&h.loop);
  const std::uint64_t start = uv_now(&h.loop);
  RefreshingCredentials creds(&h.loop, h.clock, *h.log, std::move(provider), Creds("AKIDFIRST", std::nullopt));
  RunFor(&h.loop, 20);
  CHECK(script.fetches == 0);  // no expiry: nothing planned
  creds.Refused(start);        // signed with the current ones, right after they came
  creds.Refused(start);        // a fetch is already out
  CHECK(script.fetches == 1);
  RunFor(&h.loop, 100);
  CHECK(creds.current().access_key_id == "AKIDSECOND");
  creds.Refused(start);  // signed before the new ones came: nothing to do
  RunFor(&h.loop, 100);
  CHECK(script.fetches == 1);
  CHECK(creds.counters().refusals == 3);
  creds.Close([] {});
  uv_run(&h.loop, UV_RUN_DEFAULT);
}

TEST_CASE("A provider that hands back the refused key is asked again with a growing gap", "[aws][refresh]") {
  ProviderHarness h;
  auto provider = std::make_unique<ScriptedProvider>(&h.loop, 10);
  ScriptedProvider& script = *provider;
  for (int i = 0; i < 4; ++i) script.script.push_back(Creds("AKIDSTALE", std::nullopt));
  RefreshingCredentials creds(&h.loop, h.clock, *h.log, std::move(provider), Creds("AKIDSTALE", std::nullopt));
  auto refuse_now = [&] {
    uv_update_time(&h.loop);
    creds.Refused(uv_now(&h.loop));
  };
  refuse_now();
  RunFor(&h.loop, 50);
  CHECK(script.fetches == 1);  // the same key came back
  refuse_now();
  RunFor(&h.loop, 500);
  CHECK(script.fetches == 1);  // 1 s gap
  RunFor(&h.loop, 600);
  CHECK(script.fetches == 2);
  refuse_now();
  RunFor(&h.loop, 1500);
  CHECK(script.fetches == 2);  // 2 s gap now
  RunFor(&h.loop, 600);
  CHECK(script.fetches == 3);
  creds.Close([] {});
  uv_run(&h.loop, UV_RUN_DEFAULT);
}

}  // namespace
}  // namespace ferry::aws
