// Tests of the AWS shared config/credentials parser (agent/aws/shared_config): section naming per file
// kind, comments, whitespace, nested settings, merging of repeated sections and of the two files, CRLF,
// and refusals that name the file and line but never a value (values may be secret keys).
#include "agent/aws/shared_config.h"

#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/scratch_dir.h"

namespace ferry::aws {
namespace {

constexpr SharedFileKind kConfig = SharedFileKind::kConfig;
constexpr SharedFileKind kCredentials = SharedFileKind::kCredentials;

SharedConfig Parse(std::string_view text, SharedFileKind kind) {
  auto parsed = ParseSharedConfig(text, kind, "~/.aws/config");
  INFO((parsed ? std::string() : parsed.error().message()));
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

std::string ParseError(std::string_view text, SharedFileKind kind) {
  auto parsed = ParseSharedConfig(text, kind, "~/.aws/config");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code() == ErrorCode::kInvalidArgument);
  return parsed.error().message();
}

TEST_CASE("Default and named profiles in the config file", "[aws]") {
  auto c = Parse(
      "[default]\n"
      "region = us-east-1\n"
      "[profile dev]\n"
      "region=eu-west-1\n"
      "output = json\n",
      kConfig);
  REQUIRE(c.profiles.size() == 2);
  CHECK(c.profiles["default"].values == std::map<std::string, std::string>{{"region", "us-east-1"}});
  CHECK(c.profiles["dev"].values ==
        std::map<std::string, std::string>{{"region", "eu-west-1"}, {"output", "json"}});
  CHECK(c.warnings.empty());
}

TEST_CASE("Default and named profiles in the credentials file", "[aws]") {
  auto c = Parse(
      "[default]\n"
      "aws_access_key_id = AKIDEXAMPLE\n"
      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
      "[dev]\n"
      "aws_access_key_id = AKIDDEV\n",
      kCredentials);
  REQUIRE(c.profiles.size() == 2);
  CHECK(c.profiles["default"].values["aws_secret_access_key"] == "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  CHECK(c.profiles["dev"].values["aws_access_key_id"] == "AKIDDEV");
}

TEST_CASE("A bare [name] is ignored in the config file; 'profile ' is not special in the credentials file",
          "[aws]") {
  const std::string text =
      "[dev]\n"
      "region = us-west-2\n"
      "[profile prod]\n"
      "region = eu-central-1\n";
  auto config = Parse(text, kConfig);
  CHECK(config.profiles.size() == 1);
  CHECK(config.profiles.count("prod") == 1);
  REQUIRE(config.warnings.size() == 1);
  CHECK(config.warnings[0].starts_with("~/.aws/config:1: ignoring [dev]"));

  auto credentials = Parse(text, kCredentials);
  CHECK(credentials.profiles.size() == 1);
  CHECK(credentials.profiles["dev"].values["region"] == "us-west-2");
  REQUIRE(credentials.warnings.size() == 1);
  CHECK(credentials.warnings[0].starts_with("~/.aws/config:3: ignoring [profile prod]"));
}

TEST_CASE("[profile default] takes the place of [default] in the config file", "[aws]") {
  auto both = Parse("[default]\nregion = a\n[profile default]\nregion = b\n", kConfig);
  CHECK(both.profiles["default"].values["region"] == "b");
  REQUIRE(both.warnings.size() == 1);
  CHECK(both.warnings[0].starts_with("~/.aws/config:1:"));

  auto only = Parse("[profile default]\nregion = b\n", kConfig);
  CHECK(only.profiles["default"].values["region"] == "b");
  CHECK(only.warnings.empty());
}

TEST_CASE("sso-session and services sections; unknown section types are ignored", "[aws]") {
  auto c = Parse(
      "[sso-session my-sso]\n"
      "sso_region = us-east-1\n"
      "[services my-services]\n"
      "dynamodb =\n"
      "  endpoint_url = http://localhost:8000\n"
      "[plugins x]\n"
      "foo = bar\n"
      "[profile a b]\n"
      "foo = bar\n",
      kConfig);
  CHECK(c.sso_sessions["my-sso"].values["sso_region"] == "us-east-1");
  CHECK(c.services["my-services"].sub_sections["dynamodb"]["endpoint_url"] == "http://localhost:8000");
  CHECK(c.profiles.empty());
  CHECK(c.warnings.size() == 2);
}

TEST_CASE("Comments: whole lines, after section headers, and after a blank on property lines", "[aws]") {
  auto c = Parse(
      "# a comment\n"
      "; another\n"
      "   # indented comment\n"
      "[profile dev] # trailing comment\n"
      "[profile dev];glued comment\n"
      "region = us-east-1 # where\n"
      "output = json\t; tab then comment\n"
      "secret = abc#def;ghi\n"
      "empty = # nothing\n",
      kConfig);
  const auto& values = c.profiles["dev"].values;
  CHECK(values.at("region") == "us-east-1");
  CHECK(values.at("output") == "json");
  CHECK(values.at("secret") == "abc#def;ghi");
  CHECK(values.at("empty").empty());
}

TEST_CASE("Whitespace around names, keys and values is trimmed; keys are lower-cased", "[aws]") {
  auto c = Parse(
      "[   profile    dev   ]\n"
      "Region   =   us-east-1   \n"
      "AWS_Access_Key_ID=AKID\n"
      "role_arn\t=\tarn:aws:iam::123456789012:role/R\t\n"
      "\n"
      "   \n"
      "base64 = aGVsbG8=\n",
      kConfig);
  const auto& values = c.profiles.at("dev").values;
  CHECK(values.at("region") == "us-east-1");
  CHECK(values.at("aws_access_key_id") == "AKID");
  CHECK(values.at("role_arn") == "arn:aws:iam::123456789012:role/R");
  CHECK(values.at("base64") == "aGVsbG8=");  // only the first '=' separates
}

TEST_CASE("Nested settings under an empty value; continuation lines under a value", "[aws]") {
  auto c = Parse(
      "[default]\n"
      "s3 =\n"
      "  max_concurrent_requests = 10\n"
      "\n"
      "  Max_Queue_Size=1000 # comment\n"
      "region = us-east-1\n"
      "note = first\n"
      "  second\n",
      kConfig);
  const auto& p = c.profiles["default"];
  CHECK(p.values.count("s3") == 0);
  CHECK(p.sub_sections.at("s3") ==
        std::map<std::string, std::string>{{"max_concurrent_requests", "10"}, {"max_queue_size", "1000"}});
  CHECK(p.values.at("region") == "us-east-1");
  CHECK(p.values.at("note") == "first\nsecond");

  auto empty = Parse("[default]\nregion =\n", kConfig);
  CHECK(empty.profiles["default"].values.at("region").empty());
  CHECK(empty.profiles["default"].sub_sections.empty());
}

TEST_CASE("Repeated sections merge; later keys win", "[aws]") {
  auto c = Parse(
      "[profile dev]\n"
      "region = a\n"
      "output = json\n"
      "s3 =\n"
      "  x = 1\n"
      "[profile other]\n"
      "region = o\n"
      "[profile dev]\n"
      "region = b\n"
      "s3 =\n"
      "  y = 2\n",
      kConfig);
  const auto& dev = c.profiles["dev"];
  CHECK(dev.values == std::map<std::string, std::string>{{"region", "b"}, {"output", "json"}});
  CHECK(dev.sub_sections.at("s3") == std::map<std::string, std::string>{{"x", "1"}, {"y", "2"}});
  CHECK(c.profiles["other"].values.at("region") == "o");

  // A key holds a value or a block, never both.
  auto reopened = Parse("[default]\ns3 =\n  x = 1\ns3 =\nregion = a\n", kConfig);
  CHECK(reopened.profiles["default"].values.count("s3") == 0);
  CHECK(reopened.profiles["default"].sub_sections.at("s3").at("x") == "1");
  auto replaced = Parse("[default]\ns3 =\n  x = 1\ns3 = flat\n", kConfig);
  CHECK(replaced.profiles["default"].values.at("s3") == "flat");
  CHECK(replaced.profiles["default"].sub_sections.empty());
}

TEST_CASE("CRLF line endings and a UTF-8 BOM read like LF", "[aws]") {
  auto c = Parse(
      "\xEF\xBB\xBF[default]\r\n"
      "region = us-east-1\r\n"
      "s3 =\r\n"
      "  addressing_style = path\r\n"
      "\r\n"
      "[profile dev] ; comment\r\n"
      "output=json\r\n",
      kConfig);
  CHECK(c.profiles["default"].values.at("region") == "us-east-1");
  CHECK(c.profiles["default"].sub_sections.at("s3").at("addressing_style") == "path");
  CHECK(c.profiles["dev"].values.at("output") == "json");
}

TEST_CASE("Malformed lines are refused with file:line, never quoting a value", "[aws]") {
  const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  struct Case {
    std::string text;
    std::string prefix;
  };
  for (const Case& c : {
           Case{"aws_secret_access_key = " + secret + "\n", "~/.aws/config:1: setting before any [section]"},
           Case{"[default]\nregion = a\n" + secret + "\n", "~/.aws/config:3: setting without '='"},
           Case{"[default]\n = " + secret + "\n", "~/.aws/config:2: indented line with no setting"},
           Case{"[default]\n= " + secret + "\n", "~/.aws/config:2: setting without a key"},
           Case{"[default]\nsecret key = " + secret + "\n", "~/.aws/config:2: setting whose key holds"},
           Case{"\n\n[default\nk = " + secret + "\n", "~/.aws/config:3: section header without its closing"},
           Case{"[default] " + secret + "\n", "~/.aws/config:1: text after the section header"},
           Case{"[]\n", "~/.aws/config:1: section header without a name"},
           Case{"  x = " + secret + "\n", "~/.aws/config:1: indented line before any [section]"},
           Case{"[default]\ns3 =\n  " + secret + "\n", "~/.aws/config:3: nested setting of 's3' without '='"},
       }) {
    for (SharedFileKind kind : {kConfig, kCredentials}) {
      INFO(c.text);
      const std::string message = ParseError(c.text, kind);
      CHECK(message.starts_with(c.prefix));
      CHECK(message.find(secret) == std::string::npos);
      CHECK(message.find("wJalr") == std::string::npos);
    }
  }
}

TEST_CASE("MergedProfile: credentials-file values win over config-file values", "[aws]") {
  auto config = Parse(
      "[profile dev]\n"
      "region = us-east-1\n"
      "aws_access_key_id = FROMCONFIG\n"
      "s3 =\n"
      "  x = 1\n"
      "[profile only-config]\n"
      "region = eu-west-1\n",
      kConfig);
  auto credentials = Parse(
      "[dev]\n"
      "aws_access_key_id = FROMCREDENTIALS\n"
      "aws_secret_access_key = SECRET\n"
      "s3 = flat\n"
      "[only-credentials]\n"
      "aws_access_key_id = K\n",
      kCredentials);
  auto dev = MergedProfile(config, credentials, "dev");
  REQUIRE(dev);
  CHECK(dev->values == std::map<std::string, std::string>{{"region", "us-east-1"},
                                                          {"aws_access_key_id", "FROMCREDENTIALS"},
                                                          {"aws_secret_access_key", "SECRET"},
                                                          {"s3", "flat"}});
  CHECK(dev->sub_sections.empty());
  CHECK(MergedProfile(config, credentials, "only-config")->values.at("region") == "eu-west-1");
  CHECK(MergedProfile(config, credentials, "only-credentials")->values.at("aws_access_key_id") == "K");
  CHECK_FALSE(MergedProfile(config, credentials, "missing"));
  CHECK_FALSE(MergedProfile(config, credentials, "Dev"));  // profile names are case-sensitive
}

TEST_CASE("LoadSharedConfig: a missing file is empty; an existing one is parsed with its path in errors",
          "[aws]") {
  ferry::testing::ScratchDir scratch("ferry-shared-config");
  const std::string& dir = scratch.path();

  auto missing = LoadSharedConfig(dir + "/config", kConfig);
  REQUIRE(missing.ok());
  CHECK(missing->profiles.empty());

  const std::string path = dir + "/credentials";
  std::ofstream(path) << "[default]\naws_access_key_id = AKID\n";
  auto loaded = LoadSharedConfig(path, kCredentials);
  REQUIRE(loaded.ok());
  CHECK(loaded->profiles["default"].values.at("aws_access_key_id") == "AKID");

  std::ofstream(path) << "[default]\nno equals here\n";
  auto bad = LoadSharedConfig(path, kCredentials);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().starts_with(path + ":2: "));

  std::ofstream(path) << std::string((1 << 20) + 1, '#');
  auto big = LoadSharedConfig(path, kCredentials);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message().find("larger than 1 MiB") != std::string::npos);
}

TEST_CASE("A realistic config file with roles, credential_process and SSO", "[aws]") {
  auto c = Parse(
      "# Managed by hand.\n"
      "[default]\n"
      "region = us-east-1\n"
      "output = json\n"
      "\n"
      "[profile base]\n"
      "credential_process = /usr/local/bin/get-creds --account 123456789012 --role \"Log Shipper\"\n"
      "\n"
      "[profile shipper]\n"
      "role_arn = arn:aws:iam::123456789012:role/ferry-shipper\n"
      "source_profile = base\n"
      "role_session_name = ferry\n"
      "external_id = abc#123\n"
      "duration_seconds = 3600\n"
      "\n"
      "[profile web]\n"
      "role_arn = arn:aws:iam::123456789012:role/web\n"
      "web_identity_token_file = /var/run/secrets/token\n"
      "\n"
      "[profile sso-dev]\n"
      "sso_session = corp\n"
      "sso_account_id = 111122223333\n"
      "sso_role_name = ReadOnly\n"
      "region = eu-west-1\n"
      "services = local\n"
      "\n"
      "[sso-session corp]\n"
      "sso_start_url = https://corp.awsapps.com/start#/\n"
      "sso_region = us-east-1\n"
      "sso_registration_scopes = sso:account:access\n"
      "\n"
      "[services local]\n"
      "kinesis =\n"
      "  endpoint_url = http://localhost:4566\n",
      kConfig);
  CHECK(c.warnings.empty());
  CHECK(c.profiles.size() == 5);
  CHECK(c.profiles["base"].values.at("credential_process") ==
        "/usr/local/bin/get-creds --account 123456789012 --role \"Log Shipper\"");
  const auto& shipper = c.profiles["shipper"].values;
  CHECK(shipper.at("role_arn") == "arn:aws:iam::123456789012:role/ferry-shipper");
  CHECK(shipper.at("source_profile") == "base");
  CHECK(shipper.at("external_id") == "abc#123");
  CHECK(c.profiles["web"].values.at("web_identity_token_file") == "/var/run/secrets/token");
  CHECK(c.profiles["sso-dev"].values.at("sso_session") == "corp");
  CHECK(c.sso_sessions["corp"].values.at("sso_start_url") == "https://corp.awsapps.com/start#/");
  CHECK(c.services["local"].sub_sections.at("kinesis").at("endpoint_url") == "http://localhost:4566");
}

}  // namespace
}  // namespace ferry::aws
