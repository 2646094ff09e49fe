// Tests of the credential document reader (agent/aws/credential_document): the IMDS, container and
// credential_process shapes, each required member missing or mistyped, and refusals that name the kind
// and member but never a value; ParseIso8601Utc's fractions, offsets, leap years and range checks.
#include "agent/aws/credential_document.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace ferry::aws {
namespace {

constexpr auto kImds = CredentialDocumentKind::kInstanceMetadata;
constexpr auto kContainer = CredentialDocumentKind::kContainer;
constexpr auto kProcess = CredentialDocumentKind::kProcess;

// 2026-11-26T19:00:00Z
constexpr std::int64_t kExpiry = 1795719600;

const std::string kImdsDocument = R"({
  "Code" : "Success",
  "LastUpdated" : "2026-11-26T13:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAIMDSEXAMPLE",
  "SecretAccessKey" : "imds+Secret/Key=",
  "Token" : "IMDSTOKEN//secret+value==",
  "Expiration" : "2026-11-26T19:00:00Z"
})";

const std::string kContainerDocument =
    R"({"AccessKeyId":"ASIAECSEXAMPLE","SecretAccessKey":"ecs-secret","Token":"ecs-token",)"
    R"("Expiration":"2026-11-26T19:00:00Z","RoleArn":"arn:aws:iam::123456789012:role/task"})";

const std::string kProcessDocument =
    R"({"Version":1,"AccessKeyId":"ASIAPROCESS","SecretAccessKey":"process-secret",)"
    R"("SessionToken":"process-token","Expiration":"2026-11-26T19:00:00Z"})";

DocumentCredentials Parse(std::string_view json, CredentialDocumentKind kind) {
  auto parsed = ParseCredentialDocument(json, kind);
  INFO((parsed ? std::string() : parsed.error().message()));
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

std::string ParseError(std::string_view json, CredentialDocumentKind kind) {
  auto parsed = ParseCredentialDocument(json, kind);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code() == ErrorCode::kProtocol);
  return parsed.error().message();
}

// `json` with the first `from` replaced by `to`.
std::string Replace(std::string json, std::string_view from, std::string_view to) {
  const auto at = json.find(from);
  REQUIRE(at != std::string::npos);
  json.replace(at, from.size(), to);
  return json;
}

TEST_CASE("An IMDS security-credentials document", "[aws]") {
  auto c = Parse(kImdsDocument, kImds);
  CHECK(c.access_key_id == "ASIAIMDSEXAMPLE");
  CHECK(c.secret_access_key == "imds+Secret/Key=");
  CHECK(c.session_token == "IMDSTOKEN//secret+value==");
  CHECK(c.expiration == kExpiry);
}

TEST_CASE("An IMDS document whose Code is not Success is refused, naming the code", "[aws]") {
  CHECK(ParseError(Replace(kImdsDocument, R"("Success")", R"("AssumeRoleUnauthorizedAccess")"), kImds) ==
        R"(instance metadata credentials: "Code" is "AssumeRoleUnauthorizedAccess", not "Success")");
  CHECK(ParseError(R"({"Code":"Failure"})", kImds) ==
        R"(instance metadata credentials: "Code" is "Failure", not "Success")");
  CHECK(ParseError(Replace(kImdsDocument, R"("Code" : "Success",)", ""), kImds) ==
        R"(instance metadata credentials: "Code" is missing)");
  CHECK(ParseError(Replace(kImdsDocument, R"("Success")", "200"), kImds) ==
        R"(instance metadata credentials: "Code" is not a string)");
  // A hostile code is cut short and made printable.
  const std::string error =
      ParseError(Replace(kImdsDocument, R"("Success")", "\"" + std::string(100, 'x') + "\\n\""), kImds);
  CHECK(error ==
        "instance metadata credentials: \"Code\" is \"" + std::string(64, 'x') + "...\", not \"Success\"");
}

TEST_CASE("A container credentials document", "[aws]") {
  auto c = Parse(kContainerDocument, kContainer);
  CHECK(c.access_key_id == "ASIAECSEXAMPLE");
  CHECK(c.secret_access_key == "ecs-secret");
  CHECK(c.session_token == "ecs-token");
  CHECK(c.expiration == kExpiry);
  // The container shape has no Code; one that is present is not read.
  CHECK(Parse(Replace(kContainerDocument, "{", R"({"Code":"Nope",)"), kContainer).access_key_id ==
        "ASIAECSEXAMPLE");
}

TEST_CASE("credential_process output", "[aws]") {
  auto c = Parse(kProcessDocument, kProcess);
  CHECK(c.access_key_id == "ASIAPROCESS");
  CHECK(c.secret_access_key == "process-secret");
  CHECK(c.session_token == "process-token");
  CHECK(c.expiration == kExpiry);

  SECTION("SessionToken and Expiration are optional: long-term keys that never expire") {
    auto bare = Parse(R"({"Version":1,"AccessKeyId":"AKIDPROCESS","SecretAccessKey":"s"})", kProcess);
    CHECK(bare.access_key_id == "AKIDPROCESS");
    CHECK(bare.session_token.empty());
    CHECK_FALSE(bare.expiration.has_value());
  }
  SECTION("null counts as absent, as for the AWS CLI") {
    auto nulls = Parse(
        R"({"Version":1,"AccessKeyId":"AKID","SecretAccessKey":"s","SessionToken":null,"Expiration":null})",
        kProcess);
    CHECK(nulls.session_token.empty());
    CHECK_FALSE(nulls.expiration.has_value());
    CHECK(Parse(R"({"Version":1,"AccessKeyId":"AKID","SecretAccessKey":"s","SessionToken":""})", kProcess)
              .session_token.empty());
  }
  SECTION("Version must be the number 1") {
    CHECK(ParseError(Replace(kProcessDocument, R"("Version":1,)", ""), kProcess) ==
          R"(credential_process output: "Version" is missing)");
    CHECK(ParseError(Replace(kProcessDocument, R"("Version":1)", R"("Version":2)"), kProcess) ==
          R"(credential_process output: "Version" is 2, not 1)");
    CHECK(ParseError(Replace(kProcessDocument, R"("Version":1)", R"("Version":"1")"), kProcess) ==
          R"(credential_process output: "Version" is not the number 1)");
    CHECK(ParseError(Replace(kProcessDocument, R"("Version":1)", R"("Version":1.5)"), kProcess) ==
          R"(credential_process output: "Version" is not the number 1)");
  }
  SECTION("The container and IMDS name, Token, is not read") {
    CHECK(Parse(Replace(kProcessDocument, "SessionToken", "Token"), kProcess).session_token.empty());
  }
}

TEST_CASE("Every required member, missing, null, mistyped or empty, is named", "[aws]") {
  struct Case {
    CredentialDocumentKind kind;
    std::string document;
    std::string kind_name;
    std::vector<std::string> required;
  };
  const std::vector<Case> cases = {
      {kImds,
       kImdsDocument,
       "instance metadata credentials",
       {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}},
      {kContainer,
       kContainerDocument,
       "container credentials",
       {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}},
      {kProcess, kProcessDocument, "credential_process output", {"AccessKeyId", "SecretAccessKey"}},
  };
  for (const auto& c : cases) {
    for (const auto& name : c.required) {
      INFO(c.kind_name << " " << name);
      const std::string renamed = Replace(c.document, "\"" + name + "\"", "\"Other" + name + "\"");
      CHECK(ParseError(renamed, c.kind) == c.kind_name + ": \"" + name + "\" is missing");
      const std::string prefix = "\"" + name + "\"";
      const auto at = c.document.find(prefix);
      const auto value_start = c.document.find('"', c.document.find(':', at) + 1);
      const auto value_end = c.document.find('"', value_start + 1) + 1;
      auto with_value = [&](std::string_view value) {
        std::string json = c.document;
        json.replace(value_start, value_end - value_start, value);
        return json;
      };
      CHECK(ParseError(with_value("null"), c.kind) == c.kind_name + ": \"" + name + "\" is missing");
      CHECK(ParseError(with_value("42"), c.kind) == c.kind_name + ": \"" + name + "\" is not a string");
      CHECK(ParseError(with_value("[]"), c.kind) == c.kind_name + ": \"" + name + "\" is not a string");
      if (name == "Expiration") {
        CHECK(ParseError(with_value("\"\""), c.kind) ==
              c.kind_name + ": \"Expiration\" is not an ISO 8601 UTC time");
        CHECK(ParseError(with_value("\"2026-11-26 19:00:00\""), c.kind) ==
              c.kind_name + ": \"Expiration\" is not an ISO 8601 UTC time");
      } else {
        CHECK(ParseError(with_value("\"\""), c.kind) == c.kind_name + ": \"" + name + "\" is empty");
        CHECK(ParseError(with_value("\"AKID\\r\\nX-Injected: 1\""), c.kind) ==
              c.kind_name + ": \"" + name + "\" holds a character other than visible ASCII");
        CHECK(ParseError(with_value("\"two words\""), c.kind) ==
              c.kind_name + ": \"" + name + "\" holds a character other than visible ASCII");
      }
    }
  }
  CHECK(ParseError(Replace(kProcessDocument, R"("process-token")", R"("tok\u0000en")"), kProcess) ==
        R"(credential_process output: "SessionToken" holds a character other than visible ASCII)");
  CHECK(ParseError(Replace(kProcessDocument, R"("2026-11-26T19:00:00Z")", "1795719600"), kProcess) ==
        R"(credential_process output: "Expiration" is not a string)");
}

TEST_CASE("A member the kind reads may appear only once", "[aws]") {
  CHECK(ParseError(Replace(kContainerDocument, "{", R"({"AccessKeyId":"AKIDFIRST",)"), kContainer) ==
        R"(container credentials: "AccessKeyId" appears more than once)");
  CHECK(ParseError(Replace(kImdsDocument, "{", R"({"Code":null,)"), kImds) ==
        R"(instance metadata credentials: "Code" appears more than once)");
  // Members the kind does not read may repeat, as may an empty name.
  CHECK(Parse(Replace(kContainerDocument, "{", R"({"RoleArn":"x","":1,"":2,)"), kContainer).session_token ==
        "ecs-token");
}

TEST_CASE("Documents that are not JSON objects, or too big", "[aws]") {
  CHECK(ParseError("", kContainer) == "container credentials: not JSON: The document is empty. at byte 0");
  CHECK(ParseError(kContainerDocument.substr(0, 40), kContainer)
            .starts_with("container credentials: not JSON: "));
  CHECK(ParseError(kContainerDocument + "}", kContainer).starts_with("container credentials: not JSON: "));
  CHECK(ParseError("[]", kImds) == "instance metadata credentials: not a JSON object");
  CHECK(ParseError("\"AKID\"", kProcess) == "credential_process output: not a JSON object");
  CHECK(ParseError(std::string(2000, '[') + std::string(2000, ']'), kProcess) ==
        "credential_process output: not a JSON object");
  // Padding inside the limit is fine, past it refused before parsing.
  const std::string padded = kContainerDocument + std::string((64 << 10) - kContainerDocument.size(), ' ');
  CHECK(Parse(padded, kContainer).access_key_id == "ASIAECSEXAMPLE");
  CHECK(ParseError(padded + " ", kContainer) ==
        "container credentials: 65537 bytes, more than the 64 KiB a credential document may be");
}

TEST_CASE("No credential document error holds a secret", "[aws]") {
  const std::vector<std::string> secrets = {
      "ASIAIMDSEXAMPLE", "imds+Secret/Key=", "IMDSTOKEN//secret+value==", "process-secret", "process-token"};
  const std::vector<std::pair<CredentialDocumentKind, std::string>> broken = {
      {kImds, Replace(kImdsDocument, R"("Success")", R"("Failure")")},
      {kImds, Replace(kImdsDocument, R"("2026-11-26T19:00:00Z")", R"("IMDSTOKEN//secret+value==")")},
      {kImds, Replace(kImdsDocument, R"("Token")", R"("Expiration")")},
      {kImds, Replace(kImdsDocument, R"("IMDSTOKEN//secret+value==")", R"("IMDSTOKEN//secret+value== ")")},
      {kImds, Replace(kImdsDocument, R"("ASIAIMDSEXAMPLE")", R"(["ASIAIMDSEXAMPLE"])")},
      {kImds, Replace(kImdsDocument, R"("imds+Secret/Key=")", R"("imds+Secret/Key=\u0001")")},
      {kImds, Replace(kImdsDocument, R"("imds+Secret/Key=")", R"("imds+Secret/Key=\x")")},
      {kImds, kImdsDocument.substr(0, kImdsDocument.size() - 3)},
      {kContainer, Replace(kImdsDocument, R"("2026-11-26T19:00:00Z")", R"("imds+Secret/Key=")")},
      {kContainer, Replace(kImdsDocument, R"("Token")", R"("AccessKeyId")")},
      {kProcess, Replace(kProcessDocument, R"("Version":1)", R"("Version":"process-secret")")},
      {kProcess, Replace(kProcessDocument, R"("2026-11-26T19:00:00Z")", R"("process-token")")},
      {kProcess, Replace(kProcessDocument, R"("process-token")", R"("process-token\n")")},
      {kProcess, Replace(kProcessDocument, R"("process-token")", R"(process-token)")},
  };
  for (const auto& [kind, document] : broken) {
    auto parsed = ParseCredentialDocument(document, kind);
    INFO(document);
    REQUIRE_FALSE(parsed.ok());
    INFO(parsed.error().message());
    for (const auto& secret : secrets) CHECK(parsed.error().message().find(secret) == std::string::npos);
  }
}

TEST_CASE("ISO 8601 UTC times", "[aws]") {
  CHECK(ParseIso8601Utc("1970-01-01T00:00:00Z") == 0);
  CHECK(ParseIso8601Utc("2026-11-26T19:00:00Z") == kExpiry);
  CHECK(ParseIso8601Utc("2026-11-26t19:00:00z") == kExpiry);
  CHECK(ParseIso8601Utc("1969-12-31T23:59:59Z") == -1);
  CHECK(ParseIso8601Utc("2000-03-01T00:00:00Z") == 951868800);
  CHECK(ParseIso8601Utc("9999-12-31T23:59:59Z") == 253402300799);
  CHECK(ParseIso8601Utc("0000-01-01T00:00:00Z") == -62167219200);

  SECTION("Fractions are dropped (rounded down)") {
    CHECK(ParseIso8601Utc("2026-11-26T19:00:00.123Z") == kExpiry);
    CHECK(ParseIso8601Utc("2026-11-26T19:00:00.999999999Z") == kExpiry);
    CHECK(ParseIso8601Utc("2026-11-26T19:00:00.5+00:00") == kExpiry);
    CHECK(ParseIso8601Utc("1969-12-31T23:59:59.5Z") == -1);
    CHECK_FALSE(ParseIso8601Utc("2026-11-26T19:00:00.Z"));
    CHECK_FALSE(ParseIso8601Utc("2026-11-26T19:00:00,5Z"));
    CHECK_FALSE(ParseIso8601Utc("2026-11-26T19:00:00.1a2Z"));
  }
  SECTION("Offsets are applied") {
    CHECK(ParseIso8601Utc("2026-11-26T19:00:00+00:00") == kExpiry);
    CHECK(ParseIso8601Utc("2026-11-26T19:00:00-00:00") == kExpiry);
    CHECK(ParseIso8601Utc("2026-11-26T20:00:00+01:00") == kExpiry);
    CHECK(ParseIso8601Utc("2026-11-26T13:30:00-05:30") == kExpiry);
    CHECK(ParseIso8601Utc("2026-11-27T04:45:00+09:45") == kExpiry);
    CHECK(ParseIso8601Utc("2026-11-25T19:01:00-23:59") == kExpiry);
    CHECK_FALSE(ParseIso8601Utc("2026-11-26T19:00:00+24:00"));
    CHECK_FALSE(ParseIso8601Utc("2026-11-26T19:00:00+01:60"));
    CHECK_FALSE(ParseIso8601Utc("2026-11-26T19:00:00+0100"));
    CHECK_FALSE(ParseIso8601Utc("2026-11-26T19:00:00+01"));
    CHECK_FALSE(ParseIso8601Utc("2026-11-26T19:00:00 +01:00"));
  }
  SECTION("Leap years") {
    CHECK(ParseIso8601Utc("2024-02-29T00:00:00Z") == 1709164800);
    CHECK(ParseIso8601Utc("2000-02-29T00:00:00Z") == 951782400);
    CHECK_FALSE(ParseIso8601Utc("2026-02-29T00:00:00Z"));
    CHECK_FALSE(ParseIso8601Utc("1900-02-29T00:00:00Z"));
    CHECK_FALSE(ParseIso8601Utc("2100-02-29T00:00:00Z"));
    CHECK(*ParseIso8601Utc("2024-03-01T00:00:00Z") - *ParseIso8601Utc("2024-02-28T00:00:00Z") == 2 * 86400);
  }
  SECTION("A leap second is the next second's start") {
    CHECK(ParseIso8601Utc("2016-12-31T23:59:60Z") == ParseIso8601Utc("2017-01-01T00:00:00Z"));
  }
  SECTION("Out-of-range fields and other shapes are refused") {
    for (const char* bad : {
             "2026-00-26T19:00:00Z",       "2026-13-26T19:00:00Z",
             "2026-11-00T19:00:00Z",       "2026-11-31T19:00:00Z",
             "2026-04-31T19:00:00Z",       "2026-11-26T24:00:00Z",
             "2026-11-26T19:60:00Z",       "2026-11-26T19:00:61Z",
             "2026-11-26T19:00:00",        "2026-11-26T19:00Z",
             "2026-11-26 19:00:00Z",       "2026-11-26",
             "26-11-26T19:00:00Z",         "+2026-11-26T19:00:00Z",
             "2026-1-26T19:00:00Z",        "2026-11-26T19:00:00ZZ",
             "2026-11-26T19:00:00Z ",      " 2026-11-26T19:00:00Z",
             "2026-11-26T19:00:00UTC",     "2026-11-26T-9:00:00Z",
             "20261126T190000Z",           "",
             "2026-11-26T19:00:00+01:00Z",
         }) {
      INFO(bad);
      CHECK_FALSE(ParseIso8601Utc(bad));
    }
  }
}

}  // namespace
}  // namespace ferry::aws
