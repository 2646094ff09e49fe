// Tests of the credential chain (agent/aws/credential_chain): the order of the providers, which of them are
// set up, the search, and the error that names every provider tried.
#include "agent/aws/credential_chain.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "tests/unit/provider_harness.h"

namespace ferry::aws {
namespace {

using testing::ProviderHarness;

Environment Vars(std::map<std::string, std::string, std::less<>> vars) {
  return Environment(std::move(vars));
}

Environment Env(std::map<std::string, std::string, std::less<>> vars) {
  vars.emplace("AWS_EC2_METADATA_DISABLED", "true");  // never the host's own metadata service
  return Environment(std::move(vars));
}

const std::map<std::string, std::string, std::less<>> kEnvKeys = {
    {"AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT"},
    {"AWS_SECRET_ACCESS_KEY", "env-secret"},
    {"AWS_SESSION_TOKEN", "env-token"},
};

ChainSettings Settings(std::string profile = "default", bool named = false) {
  ChainSettings s;
  s.sts = *ResolveEndpoint("sts", "us-east-1", "http://127.0.0.1:9");
  s.session_name = "ferry-test";
  s.profile = std::move(profile);
  s.profile_named = named;
  return s;
}

Result<FoundCredentials> Find(ProviderHarness& h, const AwsOptions& aws, const ProfileFiles& files = {},
                              const ChainSettings& settings = Settings()) {
  bool done = false;
  Result<FoundCredentials> out = Error(ErrorCode::kInternal, "the callback never ran");
  FindCredentials(BuildCredentialChain(aws, *h.ctx, files, settings), [&](Result<FoundCredentials> got) {
    out = std::move(got);
    done = true;
  });
  h.RunUntil(done);
  return out;
}

ProfileFiles Files(std::string_view config, std::string_view credentials = "") {
  return testing::ProfileFilesOf(config, credentials);
}

TEST_CASE("Static keys in the config come first", "[credential_chain]") {
  ProviderHarness h(Env(kEnvKeys));
  AwsOptions aws;
  aws.access_key_id = "AKIDCONFIG";
  aws.secret_access_key = "config-secret";
  auto r = Find(h, aws);
  REQUIRE(r.ok());
  CHECK(r->provider->name() == "config");
  CHECK(r->credentials.credentials.access_key_id == "AKIDCONFIG");
  CHECK(r->credentials.credentials.secret_access_key == "config-secret");
  CHECK(r->credentials.credentials.session_token.empty());  // never mixed with the environment's token
  CHECK_FALSE(r->credentials.expiration);
}

TEST_CASE("Environment credentials come before the profile", "[credential_chain]") {
  ProviderHarness h(Env(kEnvKeys));
  auto r = Find(h, AwsOptions{},
                Files("", "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = p\n"));
  REQUIRE(r.ok());
  CHECK(r->provider->name() == "environment");
  CHECK(r->credentials.credentials.access_key_id == "AKIDENVIRONMENT");
  CHECK(r->credentials.credentials.session_token == "env-token");
}

TEST_CASE("The default profile's keys when nothing before has any", "[credential_chain]") {
  ProviderHarness h(Env({}));
  auto r = Find(h, AwsOptions{},
                Files("[default]\nregion = eu-west-1\n",
                      "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = p\n"));
  REQUIRE(r.ok());
  CHECK(r->provider->name() == "profile default");  // the provider names itself in logs
  CHECK(r->credentials.credentials.access_key_id == "AKIDPROFILE");
}

TEST_CASE("No credentials anywhere names every provider and why", "[credential_chain]") {
  ProviderHarness h(Env({{"AWS_REGION", "us-east-1"}}));
  auto r = Find(h, AwsOptions{}, Files("", ""));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kNotFound);
  CHECK(r.error().message() ==
        "no AWS credentials found; tried: config (aws.access_key_id is not set), "
        "environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set), "
        "web identity (AWS_WEB_IDENTITY_TOKEN_FILE is not set), "
        "profile default (config and credentials have no such profile), "
        "ECS container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are "
        "not set), "
        "EC2 instance metadata (AWS_EC2_METADATA_DISABLED is true)");
}

TEST_CASE("Half of the environment's keys is not enough", "[credential_chain]") {
  ProviderHarness h(Env({{"AWS_ACCESS_KEY_ID", "AKID"}}));
  auto no_secret = Find(h, AwsOptions{}, Files("", ""));
  REQUIRE_FALSE(no_secret.ok());
  CHECK(no_secret.error().message().find("environment (AWS_SECRET_ACCESS_KEY is not set)") !=
        std::string::npos);

  ProviderHarness h2(Env({{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", "secret"}}));
  auto no_id = Find(h2, AwsOptions{}, Files("", ""));
  REQUIRE_FALSE(no_id.ok());
  CHECK(no_id.error().message().find("environment (AWS_ACCESS_KEY_ID is not set)") != std::string::npos);
}

TEST_CASE("A failing provider is reported and the next one is tried", "[credential_chain]") {
  // The profile's credential_process fails; the ECS endpoint is malformed; nothing else is set up.
  ProviderHarness h(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}}));
  auto r =
      Find(h, AwsOptions{}, Files("[profile dev]\ncredential_process = exit 7\n", ""), Settings("dev", true));
  REQUIRE_FALSE(r.ok());
  const std::string& m = r.error().message();
  CAPTURE(m);
  CHECK(m.find("profile dev (credential_process: exit status 7)") != std::string::npos);
  CHECK(m.find("ECS container (AWS_CONTAINER_CREDENTIALS_FULL_URI http://example.com/creds must be https") !=
        std::string::npos);

  // With keys in the environment as well, the failures come back as warnings next to the winner... only for
  // providers tried before it: the environment comes first, so there are none.
  ProviderHarness h2(Env(kEnvKeys));
  auto found = Find(h2, AwsOptions{}, Files("[profile dev]\ncredential_process = exit 7\n", ""),
                    Settings("dev", true));
  REQUIRE(found.ok());
  CHECK(found->failures.empty());
}

TEST_CASE("A named profile that is missing is a failure worth a warning", "[credential_chain]") {
  ProviderHarness h(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds"}}));
  // The container endpoint answers nothing (port 9 is closed), so the search ends with an error listing both.
  auto r = Find(h, AwsOptions{}, Files("", ""), Settings("prod", true));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("profile prod (config and credentials have no such profile)") !=
        std::string::npos);
  CHECK(r.error().message().find("ECS container (http://127.0.0.1:9/creds: ") != std::string::npos);
}

TEST_CASE("Web identity needs a role", "[credential_chain]") {
  ProviderHarness h(Env({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"}}));
  auto r = Find(h, AwsOptions{}, Files("", ""));
  REQUIRE_FALSE(r.ok());
  CHECK(
      r.error().message().find("web identity (AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not)") !=
      std::string::npos);

  ProviderHarness h2(Env({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"},
                          {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"}}));
  auto missing_file = Find(h2, AwsOptions{}, Files("", ""));
  REQUIRE_FALSE(missing_file.ok());
  CHECK(missing_file.error().message().find("web identity (web identity token file /nonexistent/token") !=
        std::string::npos);
}

TEST_CASE("The chain's error never shows a secret", "[credential_chain]") {
  ProviderHarness h(
      Env({{"AWS_SECRET_ACCESS_KEY", "very-secret-value"}, {"AWS_SESSION_TOKEN", "tok-secret"}}));
  auto r = Find(h, AwsOptions{}, Files("[default]\naws_secret_access_key = profile-secret-value\n", ""));
  REQUIRE_FALSE(r.ok());
  for (const char* secret : {"very-secret-value", "tok-secret", "profile-secret-value"}) {
    CHECK(r.error().message().find(secret) == std::string::npos);
  }
  CHECK(r.error().message().find("aws_secret_access_key without aws_access_key_id") != std::string::npos);
}

TEST_CASE("The profile is aws.profile, else AWS_PROFILE, else default", "[credential_chain]") {
  AwsOptions aws;
  CHECK(ChosenProfile(aws, Environment()) == std::pair<std::string, bool>{"default", false});
  CHECK(ChosenProfile(aws, Vars({{"AWS_PROFILE", "dev"}})) == std::pair<std::string, bool>{"dev", true});
  aws.profile = "prod";
  CHECK(ChosenProfile(aws, Vars({{"AWS_PROFILE", "dev"}})) == std::pair<std::string, bool>{"prod", true});
}

}  // namespace
}  // namespace ferry::aws
