// Tests of Preflight (agent/ops/preflight): what `ferry run` would refuse before opening a handle is refused
// here too, every problem at once, each naming its key (located in the file) or variable; a config file
// holding secrets that everyone may read is warned about. Nothing is created, nothing is asked of a network.
#include "agent/ops/preflight.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "agent/config/config.h"
#include "tests/unit/scratch_dir.h"

namespace ferry {
namespace {

using testing::ScratchDir;
using Vars = std::map<std::string, std::string, std::less<>>;

// A config in "ferry.yaml" with state_dir in scratch, the given aws lines, and one Kinesis flow.
config::Config Config(const ScratchDir& scratch, const std::string& aws_lines,
                      const std::string& extra = "") {
  const std::string yaml = "state_dir: " + scratch.path() + "/state\n" + extra + "aws:\n" + aws_lines +
                           "flows:\n"
                           "  - name: app\n"
                           "    files: [/var/log/app.log]\n"
                           "    kinesis: {stream: s}\n";
  auto parsed = config::ParseConfig(yaml, "ferry.yaml");
  if (!parsed) FAIL(parsed.error().message());
  return std::move(*parsed);
}

TEST_CASE("Preflight: a good config passes and nothing is created", "[preflight]") {
  ScratchDir scratch("ferry-preflight");
  const auto report = Preflight(Config(scratch, "  region: eu-west-1\n"), Environment());
  CHECK(report.errors.empty());
  CHECK(report.warnings.empty());
  CHECK_FALSE(std::filesystem::exists(scratch / "state"));
}

TEST_CASE("Preflight: what run refuses before it starts is refused, each located in the file",
          "[preflight]") {
  ScratchDir scratch("ferry-preflight");
  {
    std::ofstream file(scratch / "not-a-folder");
    file << "x";
  }
  const std::string aws =
      "  region: eu-west-1\n"
      "  ca_file: /nonexistent/ca.pem\n"
      "  proxy: ftp://proxy.example:21\n"
      "  kinesis_endpoint: http://127.0.0.1:4567/some/path\n";
  auto config = Config(scratch, aws);
  config.state_dir = scratch / "not-a-folder/state";
  const auto report = Preflight(config, Environment());
  REQUIRE(report.errors.size() == 4);
  CHECK(report.errors[0] ==
        "ferry.yaml:4:12: aws.ca_file /nonexistent/ca.pem: opening: No such file or directory (ENOENT)");
  CHECK(
      report.errors[1] ==
      "ferry.yaml:5:10: aws.proxy: proxy \"ftp://proxy.example:21\" has the unsupported scheme \"ftp\" (want "
      "http:// or https://)");
  CHECK(report.errors[2] ==
        "ferry.yaml:6:21: aws.kinesis_endpoint: endpoint 'http://127.0.0.1:4567/some/path' must not have a "
        "path (the API is served at /)");
  CHECK(report.errors[3] == "ferry.yaml:1:12: state_dir " + scratch.path() +
                                "/not-a-folder/state: cannot be created: " + scratch.path() +
                                "/not-a-folder is not a folder");
}

TEST_CASE("Preflight: problems of the environment name their variable", "[preflight]") {
  ScratchDir scratch("ferry-preflight");
  Environment env(Vars{{"HTTPS_PROXY", "socks5://127.0.0.1:1080"},
                       {"AWS_ENDPOINT_URL_KINESIS", "https://vpce.example/kinesis"},
                       {"AWS_REGION", "bad region"}});
  const auto report = Preflight(Config(scratch, "  profile: default\n"), env);
  REQUIRE(report.errors.size() == 3);
  CHECK(report.errors[0].starts_with(
      "HTTPS_PROXY: proxy \"socks5://127.0.0.1:1080\" has the unsupported scheme"));
  CHECK(report.errors[1] ==
        "AWS_ENDPOINT_URL_KINESIS: endpoint 'https://vpce.example/kinesis' must not have a path (the API is "
        "served at /)");
  // STS's standard endpoint is made of the region, which is no host name.
  CHECK(report.errors[2].starts_with(
      "AWS_REGION: endpoint 'https://sts.bad region.amazonaws.com/' is not a valid URL"));
}

TEST_CASE("Preflight: standard endpoints are checked when the region is known without IMDS", "[preflight]") {
  ScratchDir scratch("ferry-preflight");
  const auto china = Preflight(Config(scratch, "  region: cn-north-1\n  use_fips: true\n"), Environment());
  REQUIRE(china.errors.size() == 1);  // said once, not once per service
  CHECK(
      china.errors[0] ==
      "ferry.yaml:4:13: aws.use_fips: there are no FIPS endpoints in cn-north-1 (China); turn use_fips off");
  // No region: only the EC2 metadata service could say, which run asks; custom URLs are checked anyway.
  const auto unknown = Preflight(
      Config(scratch, "  sts_endpoint: https://sts.example/\n  kinesis_endpoint: ftp://x.example\n"),
      Environment());
  REQUIRE(unknown.errors.size() == 1);
  CHECK(
      unknown.errors[0] ==
      "ferry.yaml:4:21: aws.kinesis_endpoint: endpoint 'ftp://x.example' must be an http:// or https:// URL");
}

TEST_CASE("Preflight: state_dir must be a folder ferry may write in, with room for its socket name",
          "[preflight]") {
  ScratchDir scratch("ferry-preflight");
  auto config = Config(scratch, "  region: eu-west-1\n");
  config.state_dir = scratch / std::string(120, 'd');
  auto report = Preflight(config, Environment());
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].starts_with("ferry.yaml:1:12: state_dir: status socket " + config.state_dir +
                                     "/ferry.sock: the path is"));

  // A read-only file system refuses root too.
  if (!scratch.MountTmpfs("ro", "size=64k", MS_RDONLY)) return;
  config.state_dir = scratch / "ro/state";
  report = Preflight(config, Environment());
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0] == "ferry.yaml:1:12: state_dir " + config.state_dir +
                                ": cannot be created: ferry may not write in " + scratch.path() +
                                "/ro: Read-only file system (EROFS)");
}

TEST_CASE("Preflight: partition keys are checked with the real host name", "[preflight]") {
  ScratchDir scratch("ferry-preflight");
  const std::string yaml = "state_dir: " + scratch.path() +
                           "\naws: {region: eu-west-1}\n"
                           "flows:\n"
                           "  - name: app\n"
                           "    files: [/var/log/app.log]\n"
                           "    kinesis: {stream: s, partition_key: "
                           "'${hostname}-${hostname}-${hostname}-${hostname}-${hostname}'}\n";
  auto config = config::ParseConfig(yaml, "ferry.yaml");
  REQUIRE(config.ok());  // with a short stand-in host name the key fits
  Environment env;
  env.set_hostname(std::string(60, 'h'));
  const auto report = Preflight(*config, env);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].starts_with("ferry.yaml:4:11: flows 'app': partition_key: "));
  CHECK_THAT(report.errors[0], Catch::Contains("Kinesis allows at most 256"));
}

TEST_CASE("Preflight: a config file everyone may read is warned about when it holds a secret",
          "[preflight]") {
  ScratchDir scratch("ferry-preflight");
  const std::string path = scratch / "ferry.yaml";
  auto write = [&](const std::string& aws_lines, mode_t mode) {
    {
      std::ofstream out(path, std::ios::trunc);
      out << "state_dir: " << scratch.path() << "/state\naws:\n  region: eu-west-1\n"
          << aws_lines << "flows: [{name: a, files: [/var/log/a.log], kinesis: {stream: s}}]\n";
    }
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    auto config = config::LoadConfigFile(path);
    REQUIRE(config.ok());
    return Preflight(*config, Environment());
  };
  const std::string keys = "  access_key_id: AKIDEXAMPLE\n  secret_access_key: s3cr3t\n";
  auto report = write(keys, 0644);
  CHECK(report.errors.empty());
  REQUIRE(report.warnings.size() == 1);
  CHECK(report.warnings[0] ==
        path + " holds aws.secret_access_key and every user may read it (mode 0644); chmod o-r " + path +
            " (0640 with the group ferry runs as, or 0600), or move the secret to the "
            "credentials file or the environment");
  CHECK(write(keys, 0640).warnings.empty());
  CHECK(write("", 0644).warnings.empty());  // nothing secret in it

  report = write(keys + "  session_token: tok\n  proxy: http://me:pw@proxy.example:3128\n", 0604);
  REQUIRE(report.warnings.size() == 1);
  CHECK_THAT(report.warnings[0],
             Catch::Contains("holds aws.secret_access_key, aws.session_token and a password in "
                             "aws.proxy and every user may read it (mode 0604)"));
  CHECK(write("  proxy: http://me@proxy.example:3128\n", 0644).warnings.empty());  // a user, no password
}

}  // namespace
}  // namespace ferry
