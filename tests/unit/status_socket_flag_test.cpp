// Tests of ParseStatusSocketFlags (agent/cli/status_socket_flag.h): which daemon's socket `ferry status` and
// `ferry top` talk to, from --state-dir, a config's state_dir, or the default.
#include "agent/cli/status_socket_flag.h"

#include <sys/stat.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "scratch_dir.h"

namespace ferry::cli {
namespace {

using Args = std::vector<std::string_view>;

std::string WriteConfig(const testing::ScratchDir& dir, const std::string& state_dir) {
  const std::string path = dir / "ferry.yaml";
  std::ofstream(path) << "state_dir: " << state_dir << "\n"
                      << "flows:\n"
                      << "  - name: web\n"
                      << "    files: [\"/var/log/web.log\"]\n"
                      << "    kinesis: { stream: s }\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

TEST_CASE("ParseStatusSocketFlags: --state-dir, a config's state_dir, the default; the rest kept in order",
          "[status]") {
  auto plain = ParseStatusSocketFlags(Args{"--json"});
  REQUIRE(plain.ok());
  CHECK(plain->state_dir == "/var/lib/ferry");
  CHECK(plain->socket_path == "/var/lib/ferry/ferry.sock");
  CHECK(plain->rest == Args{"--json"});

  auto dir = ParseStatusSocketFlags(Args{"--interval", "2s", "--state-dir", "/tmp/s", "x"});
  REQUIRE(dir.ok());
  CHECK(dir->socket_path == "/tmp/s/ferry.sock");
  CHECK(dir->rest == Args{"--interval", "2s", "x"});

  testing::ScratchDir scratch("ferry-socket-flag");
  const std::string config = WriteConfig(scratch, scratch / "state");
  const std::string config_flag = "--config=" + config;
  for (const Args& args : {Args{"-c", config}, Args{"--config", config}, Args{config_flag}}) {
    auto from_config = ParseStatusSocketFlags(args);
    REQUIRE(from_config.ok());
    CHECK(from_config->state_dir == scratch / "state");
    CHECK(from_config->socket_path == scratch / "state/ferry.sock");
    CHECK(from_config->rest.empty());
  }
  // --state-dir wins, and the config is not even read then.
  auto both = ParseStatusSocketFlags(Args{"-c", "/nonexistent/ferry.yaml", "--state-dir=/tmp/t"});
  REQUIRE(both.ok());
  CHECK(both->socket_path == "/tmp/t/ferry.sock");
}

TEST_CASE("ParseStatusSocketFlags: a flag without its value, a bad config", "[status]") {
  for (const Args& args : {Args{"--state-dir"}, Args{"-c"}, Args{"--state-dir="}, Args{"--config="}}) {
    auto r = ParseStatusSocketFlags(args);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(r.error().message(), Catch::Contains("needs a"));
  }
  auto missing = ParseStatusSocketFlags(Args{"-c", "/nonexistent-ferry-dir/ferry.yaml"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(missing.error().message(), Catch::Contains("/nonexistent-ferry-dir/ferry.yaml"));
}

}  // namespace
}  // namespace ferry::cli
