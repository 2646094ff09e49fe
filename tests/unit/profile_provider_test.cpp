// Tests of profile resolution (agent/aws/profile_provider) and of credential_process
// (agent/aws/process_provider), which runs real child processes under /bin/sh.
#include "agent/aws/profile_provider.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "agent/aws/process_provider.h"
#include "tests/unit/provider_harness.h"
#include "tests/unit/scratch_dir.h"

namespace ferry::aws {
namespace {

using testing::ProviderHarness;

ProfileFiles Files(std::string_view config, std::string_view credentials = "") {
  return testing::ProfileFilesOf(config, credentials);
}

Result<std::unique_ptr<CredentialProvider>> For(ProviderHarness& h, const ProfileFiles& files,
                                                const std::string& name) {
  ProfileContext pc{*h.ctx, files, *ResolveEndpoint("sts", "us-east-1", "http://127.0.0.1:9"), "ferry-test",
                    false};
  return ProviderForProfile(pc, name);
}

const char* kProcessJson =
    R"(printf '{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": "process-secret", )"
    R"("SessionToken": "process-token", "Expiration": "2026-11-26T20:00:00Z"}')";

TEST_CASE("A profile with keys in the credentials file", "[aws][profile]") {
  ProviderHarness h;
  auto files = Files(
      "[profile dev]\nregion = eu-west-1\n",
      "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\naws_session_token = t\n");
  auto provider = For(h, files, "dev");
  REQUIRE(provider.ok());
  CHECK((*provider)->name() == "profile dev");
  auto got = h.Fetch(**provider);
  REQUIRE(got.ok());
  CHECK(got->credentials.access_key_id == "AKIDDEV");
  CHECK(got->credentials.secret_access_key == "dev-secret");
  CHECK(got->credentials.session_token == "t");
}

TEST_CASE("credential_process runs under /bin/sh and its JSON is parsed", "[aws][profile]") {
  ProviderHarness h;
  auto files = Files(std::string("[default]\ncredential_process = ") + kProcessJson + "\n");
  auto provider = For(h, files, "default");
  REQUIRE(provider.ok());
  CHECK((*provider)->name() == "profile default (credential_process)");
  auto got = h.Fetch(**provider);
  REQUIRE(got.ok());
  CHECK(got->credentials.access_key_id == "AKIDPROCESS");
  CHECK(got->credentials.session_token == "process-token");
  REQUIRE(got->expiration);
  CHECK(*got->expiration == 1795723200);  // 2026-11-26T20:00:00Z
  // Again: each fetch runs the program again.
  auto again = h.Fetch(**provider);
  REQUIRE(again.ok());
}

TEST_CASE("credential_process failures say how it failed, never what it printed", "[aws][profile]") {
  ProviderHarness h;
  SECTION("exit status and the last line of stderr") {
    ProcessProvider p(*h.ctx, "profile x (credential_process)",
                      "echo first >&2; echo 'token expired' >&2; exit 3");
    auto got = h.Fetch(p);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().message() == "credential_process: exit status 3 (token expired)");
  }
  SECTION("not JSON") {
    ProcessProvider p(*h.ctx, "profile x (credential_process)", "echo AKIDSECRETLOOKING secret-value");
    auto got = h.Fetch(p);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().message().find("credential_process: ") == 0);
    CHECK(got.error().message().find("secret-value") == std::string::npos);
  }
  SECTION("killed after its timeout") {
    // exec: the shell becomes the sleep, so the kill closes the pipes (a grandchild would hold them open
    // for its 30 s, and the fetch waits for the pipes).
    ProcessProvider p(*h.ctx, "profile x (credential_process)", "exec sleep 30", 200);
    auto got = h.Fetch(p);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().message() == "credential_process: killed after 200 ms without finishing");
  }
  SECTION("too much output") {
    ProcessProvider p(*h.ctx, "profile x (credential_process)", "yes '{}' | head -c 1000000");
    auto got = h.Fetch(p);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().message() == "credential_process: printed more than 65536 bytes");
  }
  SECTION("the child sees ferry's environment, not the process's") {
    Environment env(std::map<std::string, std::string, std::less<>>{{"CREDS_ID", "AKIDFROMENV"},
                                                                    {"PATH", "/usr/bin:/bin"}});
    ProviderHarness with_env(env);
    ProcessProvider p(*with_env.ctx, "p",
                      R"(printf '{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"s"}' "$CREDS_ID")");
    auto got = with_env.Fetch(p);
    REQUIRE(got.ok());
    CHECK(got->credentials.access_key_id == "AKIDFROMENV");
    CHECK_FALSE(got->expiration);
  }
}

TEST_CASE("Closing a provider with a child running ends it without calling back", "[aws][profile]") {
  ProviderHarness h;
  bool called = false;
  {
    ProcessProvider p(*h.ctx, "p", "sleep 30");
    p.Fetch([&](Result<TimedCredentials>) { called = true; });
    uv_run(&h.loop, UV_RUN_NOWAIT);
    p.Close();
  }
  uv_run(&h.loop, UV_RUN_DEFAULT);  // the killed child is reaped and its handles close
  CHECK_FALSE(called);
}

TEST_CASE("role_arn with source_profile assumes the role with the source's keys", "[aws][profile]") {
  ProviderHarness h;
  auto files = Files(
      "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n"
      "external_id = ext\n[profile chained]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = app\n",
      "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  auto app = For(h, files, "app");
  REQUIRE(app.ok());
  CHECK((*app)->name() == "profile app (role_arn via profile base)");
  auto chained = For(h, files, "chained");
  REQUIRE(chained.ok());
  CHECK((*chained)->name() == "profile chained (role_arn via profile app (role_arn via profile base))");
  // STS is not reachable here (port 9): the error names the call.
  auto got = h.Fetch(**app);
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().message().find("STS AssumeRole at http://127.0.0.1:9/: ") == 0);
}

TEST_CASE("Profiles that cannot work are refused with the reason", "[aws][profile]") {
  ProviderHarness h;
  auto files = Files(
      "[profile loop1]\nrole_arn = arn:r\nsource_profile = loop2\n"
      "[profile loop2]\nrole_arn = arn:r\nsource_profile = loop1\n"
      "[profile both]\nrole_arn = arn:r\nsource_profile = x\ncredential_source = Environment\n"
      "[profile neither]\nrole_arn = arn:r\n"
      "[profile badsource]\nrole_arn = arn:r\ncredential_source = Ec2\n"
      "[profile sso]\nsso_session = corp\n"
      "[profile empty]\nregion = us-east-1\n"
      "[profile envsource]\nrole_arn = arn:r\ncredential_source = Environment\n"
      "[profile shortlived]\nrole_arn = arn:r\ncredential_source = Ec2InstanceMetadata\nduration_seconds = "
      "60\n"
      "[profile missingsource]\nrole_arn = arn:r\nsource_profile = nowhere\n");
  auto error = [&](const char* name) {
    auto r = For(h, files, name);
    REQUIRE_FALSE(r.ok());
    return r.error().message();
  };
  CHECK(error("loop1") ==
        "profile loop1: profile loop2: source_profile loop1 leads back to a profile already on the way");
  CHECK(error("both") == "profile both: role_arn needs exactly one of source_profile and credential_source");
  CHECK(error("neither") ==
        "profile neither: role_arn needs exactly one of source_profile and credential_source");
  CHECK(error("badsource") ==
        "profile badsource: credential_source must be Environment, Ec2InstanceMetadata or EcsContainer, not "
        "'Ec2'");
  CHECK(error("sso").find("profile sso: IAM Identity Center (SSO) profiles are not supported") == 0);
  CHECK(error("empty") ==
        "profile empty: no credentials (aws_access_key_id, credential_process or role_arn)");
  CHECK(error("envsource").find("credential_source Environment, but AWS_ACCESS_KEY_ID") != std::string::npos);
  CHECK(error("shortlived") == "profile shortlived: duration_seconds must be a number from 900 to 43200");
  CHECK(error("missingsource") ==
        "profile missingsource: profile nowhere is in neither config nor credentials");
  CHECK(error("absent") == "profile absent is in neither config nor credentials");
}

TEST_CASE("A profile that is its own source uses its own keys", "[aws][profile]") {
  ProviderHarness h;
  auto files = Files("[profile self]\nrole_arn = arn:r\nsource_profile = self\n",
                     "[self]\naws_access_key_id = AKIDSELF\naws_secret_access_key = s\n");
  auto p = For(h, files, "self");
  REQUIRE(p.ok());
  CHECK((*p)->name() == "profile self (role_arn via profile self)");
}

TEST_CASE("Profile files come from the variables, else HOME; missing files are empty", "[aws][profile]") {
  testing::ScratchDir dir;
  const std::string config = dir.path() + "/config";
  FILE* f = std::fopen(config.c_str(), "w");
  std::fputs("[profile x]\nregion = ap-south-1\n", f);
  std::fclose(f);
  auto files = LoadProfileFiles(Environment(
      std::map<std::string, std::string, std::less<>>{{"AWS_CONFIG_FILE", config}, {"HOME", dir.path()}}));
  REQUIRE(files.ok());
  CHECK(files->credentials_path == dir.path() + "/.aws/credentials");
  REQUIRE(files->Profile("x"));
  CHECK(files->Profile("x")->values.at("region") == "ap-south-1");

  FILE* bad = std::fopen(config.c_str(), "w");
  std::fputs("[profile x]\nno equals sign\n", bad);
  std::fclose(bad);
  auto broken = LoadProfileFiles(
      Environment(std::map<std::string, std::string, std::less<>>{{"AWS_CONFIG_FILE", config}}));
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message().find(config + ":2:") == 0);
}

}  // namespace
}  // namespace ferry::aws
