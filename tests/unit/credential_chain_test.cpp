// Tests of the credential chain (agent/aws/credential_chain): config, then environment, then an error that
// says what was tried.
#include "agent/aws/credential_chain.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

namespace ferry::aws {
namespace {

Environment Env(std::map<std::string, std::string, std::less<>> vars) {
  return Environment(std::move(vars));
}

const std::map<std::string, std::string, std::less<>> kEnvKeys = {
    {"AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT"},
    {"AWS_SECRET_ACCESS_KEY", "env-secret"},
    {"AWS_SESSION_TOKEN", "env-token"},
};

TEST_CASE("Static keys in the config come first", "[credential_chain]") {
  config::AwsOptions aws;
  aws.access_key_id = "AKIDCONFIG";
  aws.secret_access_key = "config-secret";
  auto r = ResolveCredentials(aws, Env(kEnvKeys));
  REQUIRE(r.ok());
  CHECK(r->provider == "config");
  CHECK(r->credentials.access_key_id == "AKIDCONFIG");
  CHECK(r->credentials.secret_access_key == "config-secret");
  CHECK(r->credentials.session_token.empty());  // never mixed with the environment's token
}

TEST_CASE("A config session token is used with the config keys", "[credential_chain]") {
  config::AwsOptions aws;
  aws.access_key_id = "AKIDCONFIG";
  aws.secret_access_key = "config-secret";
  aws.session_token = "config-token";
  auto r = ResolveCredentials(aws, Env({}));
  REQUIRE(r.ok());
  CHECK(r->provider == "config");
  CHECK(r->credentials.access_key_id == "AKIDCONFIG");
  CHECK(r->credentials.secret_access_key == "config-secret");
  CHECK(r->credentials.session_token == "config-token");
}

TEST_CASE("Environment credentials with a session token", "[credential_chain]") {
  auto r = ResolveCredentials(config::AwsOptions{}, Env(kEnvKeys));
  REQUIRE(r.ok());
  CHECK(r->provider == "environment");
  CHECK(r->credentials.access_key_id == "AKIDENVIRONMENT");
  CHECK(r->credentials.secret_access_key == "env-secret");
  CHECK(r->credentials.session_token == "env-token");
}

TEST_CASE("Environment credentials without a session token", "[credential_chain]") {
  auto r = ResolveCredentials(
      config::AwsOptions{},
      Env({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "secret"}, {"AWS_SESSION_TOKEN", ""}}));
  REQUIRE(r.ok());
  CHECK(r->provider == "environment");
  CHECK(r->credentials.access_key_id == "AKID");
  CHECK(r->credentials.secret_access_key == "secret");
  CHECK(r->credentials.session_token.empty());
}

TEST_CASE("No credentials anywhere names both providers and why", "[credential_chain]") {
  auto r = ResolveCredentials(config::AwsOptions{}, Env({{"AWS_REGION", "us-east-1"}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kNotFound);
  CHECK(r.error().message() ==
        "no AWS credentials found; tried: config (aws.access_key_id is not set), "
        "environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set)");
}

TEST_CASE("Half of the environment's keys is not enough", "[credential_chain]") {
  auto no_secret = ResolveCredentials(config::AwsOptions{}, Env({{"AWS_ACCESS_KEY_ID", "AKID"}}));
  REQUIRE_FALSE(no_secret.ok());
  CHECK(no_secret.error().message() ==
        "no AWS credentials found; tried: config (aws.access_key_id is not set), "
        "environment (AWS_SECRET_ACCESS_KEY is not set)");

  auto no_id = ResolveCredentials(config::AwsOptions{},
                                  Env({{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", "secret"}}));
  REQUIRE_FALSE(no_id.ok());
  CHECK(no_id.error().message() ==
        "no AWS credentials found; tried: config (aws.access_key_id is not set), "
        "environment (AWS_ACCESS_KEY_ID is not set)");
}

TEST_CASE("The error never shows a secret that was found", "[credential_chain]") {
  auto r =
      ResolveCredentials(config::AwsOptions{},
                         Env({{"AWS_SECRET_ACCESS_KEY", "very-secret-value"}, {"AWS_SESSION_TOKEN", "tok"}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("very-secret-value") == std::string::npos);
  CHECK(r.error().message().find("tok)") == std::string::npos);
}

}  // namespace
}  // namespace ferry::aws
