// ProviderHarness: a loop, the two HTTP clients and the rest of a ProviderContext, for driving credential
// providers in tests until their callbacks run.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>

#include "agent/aws/credential_provider.h"
#include "agent/aws/profile_provider.h"
#include "agent/core/clock.h"
#include "agent/net/http_client.h"

namespace ferry::testing {

class SetClock : public Clock {
 public:
  std::int64_t UnixSeconds() const override { return now; }
  std::int64_t now = 1'790'000'000;
};

struct ProviderHarness {
  explicit ProviderHarness(Environment environment = Environment()) : env(std::move(environment)) {
    REQUIRE(uv_loop_init(&loop) == 0);
    http = std::make_unique<net::HttpClient>(&loop, net::HttpClientOptions{});
    metadata = std::make_unique<net::HttpClient>(&loop, net::HttpClientOptions{});
    ctx = std::make_unique<aws::ProviderContext>(
        aws::ProviderContext{&loop, *http, *metadata, clock, env, *log});
  }
  ~ProviderHarness() {
    http->Close([] {});
    metadata->Close([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
    ctx.reset();
    http.reset();
    metadata.reset();
    CHECK(uv_loop_close(&loop) == 0);
  }

  // Runs the loop until `done` is true (or nothing is left to run).
  void RunUntil(const bool& done) {
    while (!done && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
  }

  Result<aws::TimedCredentials> Fetch(aws::CredentialProvider& provider) {
    bool done = false;
    Result<aws::TimedCredentials> out = Error(ErrorCode::kInternal, "the callback never ran");
    provider.Fetch([&](Result<aws::TimedCredentials> got) {
      out = std::move(got);
      done = true;
    });
    RunUntil(done);
    return out;
  }

  uv_loop_t loop{};
  SetClock clock;
  Environment env;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<net::HttpClient> metadata;
  std::unique_ptr<aws::ProviderContext> ctx;
};

// Profile files parsed from text, named "config" and "credentials" in messages.
inline aws::ProfileFiles ProfileFilesOf(std::string_view config, std::string_view credentials = "") {
  aws::ProfileFiles files;
  files.config_path = "config";
  files.credentials_path = "credentials";
  files.config = *aws::ParseSharedConfig(config, aws::SharedFileKind::kConfig, "config");
  files.credentials = *aws::ParseSharedConfig(credentials, aws::SharedFileKind::kCredentials, "credentials");
  return files;
}

}  // namespace ferry::testing
