// Tests of the STS query-protocol module (agent/aws/sts_response): request bodies and their percent-
// encoding, the AssumeRole and AssumeRoleWithWebIdentity responses with each credential missing, wrong
// roots, DOCTYPEs and entities refused, truncated XML, error responses, and errors that never hold a secret.
#include "agent/aws/sts_response.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace ferry::aws {
namespace {

// 2026-11-26T19:00:00Z
constexpr std::int64_t kExpiry = 1795719600;

constexpr std::string_view kAccessKey = "ASIASTSEXAMPLE";
constexpr std::string_view kSecret = "sts+Secret/Key=wJalrXUtnFEMI";
constexpr std::string_view kToken = "FwoGZXIvYXdzEBYaDKs+secret/token==";

// As STS sends it (the STS API reference's AssumeRole example), with ACTION standing for the action.
constexpr std::string_view kResponseTemplate =
    R"(<ACTIONResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <ACTIONResult>
    <SourceIdentity>DevUser123</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/John</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:John</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIASTSEXAMPLE</AccessKeyId>
      <SecretAccessKey>sts+Secret/Key=wJalrXUtnFEMI</SecretAccessKey>
      <SessionToken>FwoGZXIvYXdzEBYaDKs+secret/token==</SessionToken>
      <Expiration>2026-11-26T19:00:00Z</Expiration>
    </Credentials>
    <PackedPolicySize>8</PackedPolicySize>
  </ACTIONResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</ACTIONResponse>
)";

std::string AssumeRoleXml(std::string_view action = "AssumeRole") {
  std::string xml(kResponseTemplate);
  for (auto at = xml.find("ACTION"); at != std::string::npos; at = xml.find("ACTION", at + action.size())) {
    xml.replace(at, 6, action);
  }
  return xml;
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

StsCredentials Parse(std::string_view body, std::string_view action = "AssumeRole") {
  auto parsed = ParseStsCredentialsResponse(body, action);
  INFO((parsed ? std::string() : parsed.error().message()));
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

std::string ParseError(std::string_view body, std::string_view action = "AssumeRole") {
  auto parsed = ParseStsCredentialsResponse(body, action);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code() == ErrorCode::kProtocol);
  return parsed.error().message();
}

TEST_CASE("AssumeRole request bodies", "[aws]") {
  StsAssumeRoleRequest request;
  request.role_arn = "arn:aws:iam::123456789012:role/demo";
  request.role_session_name = "ferry-host1";
  CHECK(StsAssumeRoleBody(request) ==
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo"
        "&RoleSessionName=ferry-host1");
  request.external_id = "ext id";
  request.duration_seconds = 900;
  CHECK(StsAssumeRoleBody(request) ==
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo"
        "&RoleSessionName=ferry-host1&ExternalId=ext%20id&DurationSeconds=900");
}

TEST_CASE("AssumeRoleWithWebIdentity request bodies", "[aws]") {
  CHECK(StsAssumeRoleWithWebIdentityBody("arn:aws:iam::123456789012:role/irsa", "s", "eyJh.eyJz.c2ln", 0) ==
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
        "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Firsa&RoleSessionName=s"
        "&WebIdentityToken=eyJh.eyJz.c2ln");
  CHECK(StsAssumeRoleWithWebIdentityBody("r", "s", "t", 3600)
            .ends_with("&WebIdentityToken=t&DurationSeconds=3600"));
}

TEST_CASE("Percent-encoding keeps RFC 3986's unreserved characters and nothing else", "[aws]") {
  const auto encoded = [](std::string_view value) {
    const std::string body = StsAssumeRoleWithWebIdentityBody("r", "s", value, 0);
    return body.substr(body.find("&WebIdentityToken=") + 18);
  };
  CHECK(encoded("AZaz09-._~") == "AZaz09-._~");
  CHECK(encoded("a+b/c=d") == "a%2Bb%2Fc%3Dd");
  CHECK(encoded("a b") == "a%20b");
  CHECK(encoded("&?#%") == "%26%3F%23%25");
  CHECK(encoded("é€") == "%C3%A9%E2%82%AC");
  CHECK(encoded(std::string_view("\0\n\x7f\xff", 4)) == "%00%0A%7F%FF");
  CHECK(encoded("") == "");
}

TEST_CASE("An AssumeRole response", "[aws]") {
  auto c = Parse(AssumeRoleXml());
  CHECK(c.access_key_id == kAccessKey);
  CHECK(c.secret_access_key == kSecret);
  CHECK(c.session_token == kToken);
  CHECK(c.expiration == kExpiry);
}

TEST_CASE("An AssumeRoleWithWebIdentity response", "[aws]") {
  const std::string xml = Replace(AssumeRoleXml("AssumeRoleWithWebIdentity"), "<SourceIdentity>",
                                  "<SubjectFromWebIdentityToken>system:serviceaccount:ns:sa"
                                  "</SubjectFromWebIdentityToken><SourceIdentity>");
  auto c = Parse(xml, "AssumeRoleWithWebIdentity");
  CHECK(c.access_key_id == kAccessKey);
  CHECK(c.session_token == kToken);
  CHECK(c.expiration == kExpiry);
  // The action chooses the root: the other action's document is refused.
  CHECK(ParseError(xml) ==
        "STS AssumeRole response: the root element is <AssumeRoleWithWebIdentityResponse>, not "
        "<AssumeRoleResponse>");
  CHECK(ParseError(AssumeRoleXml(), "AssumeRoleWithWebIdentity") ==
        "STS AssumeRoleWithWebIdentity response: the root element is <AssumeRoleResponse>, not "
        "<AssumeRoleWithWebIdentityResponse>");
}

TEST_CASE("Compact, prefixed, CDATA and escaped responses read the same", "[aws]") {
  CHECK(Parse("<AssumeRoleResponse><AssumeRoleResult><Credentials><Expiration>2026-11-26T19:00:00.000Z"
              "</Expiration><SessionToken>t</SessionToken><SecretAccessKey>s</SecretAccessKey>"
              "<AccessKeyId>a</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>")
            .expiration == kExpiry);
  auto prefixed = Parse(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<sts:AssumeRoleResponse xmlns:sts=\"https://sts.amazonaws.com/doc/2011-06-15/\"><sts:AssumeRoleResult>"
      "<sts:Credentials><sts:AccessKeyId>a</sts:AccessKeyId><sts:SecretAccessKey>s&#x2B;&amp;</"
      "sts:SecretAccessKey>"
      "<sts:SessionToken><![CDATA[t+/=]]></sts:SessionToken><sts:Expiration> 2026-11-26T19:00:00Z\n"
      "</sts:Expiration></sts:Credentials></sts:AssumeRoleResult></sts:AssumeRoleResponse>");
  CHECK(prefixed.secret_access_key == "s+&");
  CHECK(prefixed.session_token == "t+/=");
  CHECK(prefixed.expiration == kExpiry);
  // Elements deeper or elsewhere with a credential's name are not the credential.
  auto decoy = Parse(Replace(AssumeRoleXml(), "<SourceIdentity>DevUser123</SourceIdentity>",
                             "<AccessKeyId>decoy</AccessKeyId><Other><Credentials><AccessKeyId>decoy"
                             "</AccessKeyId></Credentials></Other>"));
  CHECK(decoy.access_key_id == kAccessKey);
}

TEST_CASE("Every missing credential is named", "[aws]") {
  const std::string xml = AssumeRoleXml();
  for (std::string_view name : {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}) {
    INFO(name);
    const std::string renamed = Replace(Replace(xml, "<" + std::string(name) + ">", "<Other>"),
                                        "</" + std::string(name) + ">", "</Other>");
    CHECK(ParseError(renamed) == "STS AssumeRole response: no <" + std::string(name) + "> in <Credentials>");
  }
  CHECK(ParseError(Replace(xml, "<Expiration>2026-11-26T19:00:00Z</Expiration>", "<Expiration/>")) ==
        "STS AssumeRole response: <Expiration> is not an ISO 8601 UTC time");
  CHECK(ParseError(Replace(xml, "2026-11-26T19:00:00Z", "tomorrow")) ==
        "STS AssumeRole response: <Expiration> is not an ISO 8601 UTC time");
  CHECK(ParseError(Replace(xml, std::string(kToken), "  \n ")) ==
        "STS AssumeRole response: <SessionToken> is empty");
  CHECK(ParseError(Replace(xml, std::string(kToken), "tok&#10;en")) ==
        "STS AssumeRole response: <SessionToken> holds a character other than visible ASCII");
  CHECK(ParseError(Replace(xml, std::string(kAccessKey), "AKID\xC3\xA9")) ==
        "STS AssumeRole response: <AccessKeyId> holds a character other than visible ASCII");
  CHECK(ParseError(Replace(xml, "<Credentials>", "<Credential>")) ==
        "STS AssumeRole response: not XML: mismatched tag at line 13");
  CHECK(ParseError(Replace(Replace(xml, "<Credentials>", "<Creds>"), "</Credentials>", "</Creds>")) ==
        "STS AssumeRole response: no <Credentials> in <AssumeRoleResult>");
  CHECK(ParseError("<AssumeRoleResponse><ResponseMetadata/></AssumeRoleResponse>") ==
        "STS AssumeRole response: no <AssumeRoleResult> in <AssumeRoleResponse>");
  CHECK(ParseError("<AssumeRoleResponse><Credentials/></AssumeRoleResponse>") ==
        "STS AssumeRole response: no <AssumeRoleResult> in <AssumeRoleResponse>");
}

TEST_CASE("Repeated credentials and elements inside them are refused", "[aws]") {
  const std::string xml = AssumeRoleXml();
  CHECK(ParseError(Replace(xml, "<AccessKeyId>", "<AccessKeyId>A</AccessKeyId><AccessKeyId>")) ==
        "STS AssumeRole response: more than one <AccessKeyId> in <Credentials>");
  CHECK(ParseError(Replace(xml, "<PackedPolicySize>", "<Credentials/><PackedPolicySize>")) ==
        "STS AssumeRole response: more than one <Credentials>");
  CHECK(ParseError(Replace(xml, std::string(kToken), "<b>x</b>")) ==
        "STS AssumeRole response: an element inside <SessionToken>");
}

TEST_CASE("Wrong roots", "[aws]") {
  CHECK(ParseError("<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>") ==
        "STS AssumeRole response: the root element is <ErrorResponse>, not <AssumeRoleResponse>");
  CHECK(ParseError("<html><body>502 Bad Gateway</body></html>") ==
        "STS AssumeRole response: the root element is <html>, not <AssumeRoleResponse>");
  CHECK(ParseError("<" + std::string(100, 'x') + "/>") == "STS AssumeRole response: the root element is <" +
                                                              std::string(64, 'x') +
                                                              "...>, not <AssumeRoleResponse>");
}

TEST_CASE("Not XML, truncated, or too big", "[aws]") {
  CHECK(ParseError("") == "STS AssumeRole response: not XML: no element found at line 1");
  CHECK(ParseError("{\"Credentials\":{}}") ==
        "STS AssumeRole response: not XML: not well-formed (invalid token) at line 1");
  const std::string xml = AssumeRoleXml();
  for (std::size_t cut : {std::size_t{1}, std::size_t{40}, xml.find("</SessionToken>"), xml.size() - 3}) {
    INFO(cut);
    CHECK(ParseError(xml.substr(0, cut)).starts_with("STS AssumeRole response: not XML: "));
  }
  CHECK(ParseError(xml + "<more/>") ==
        "STS AssumeRole response: not XML: junk after document element at line 20");
  CHECK(ParseError(Replace(xml, "DevUser123", "&nbsp;")) ==
        "STS AssumeRole response: not XML: undefined entity at line 3");
  const std::string padded = xml + std::string((1 << 20) - xml.size(), ' ');
  CHECK(Parse(padded).access_key_id == kAccessKey);
  CHECK(ParseError(padded + " ") ==
        "STS AssumeRole response: 1048577 bytes, more than the 1 MiB an STS response may be");
}

TEST_CASE("DOCTYPEs and entity declarations are refused", "[aws]") {
  const std::string xml = AssumeRoleXml();
  CHECK(ParseError("<!DOCTYPE AssumeRoleResponse>\n" + xml) ==
        "STS AssumeRole response: a DOCTYPE declaration at line 1, refused (no DTDs, no entities)");
  // Billion laughs: refused before the first entity is declared.
  const std::string laughs =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE AssumeRoleResponse [\n"
      " <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
      "]>\n" +
      Replace(xml, std::string(kToken), "&lol2;");
  CHECK(ParseError(laughs) ==
        "STS AssumeRole response: a DOCTYPE declaration at line 2, refused (no DTDs, no entities)");
  // An external entity (XXE) is refused the same way.
  const std::string external = "<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n" +
                               Replace(xml, std::string(kToken), "&xxe;");
  CHECK(ParseError(external).starts_with("STS AssumeRole response: a DOCTYPE declaration at line 1"));
  CHECK(ParseStsErrorResponse(
            "<!DOCTYPE e [<!ENTITY c \"AccessDenied\">]><ErrorResponse><Error><Code>&c;</Code>"
            "</Error></ErrorResponse>")
            .code.empty());
}

TEST_CASE("Error responses", "[aws]") {
  auto e = ParseStsErrorResponse(
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
      "  <Error>\n"
      "    <Type>Sender</Type>\n"
      "    <Code>AccessDenied</Code>\n"
      "    <Message>User: arn:aws:iam::123456789012:user/x is not authorized to perform: sts:AssumeRole on "
      "resource: arn:aws:iam::123456789012:role/demo</Message>\n"
      "  </Error>\n"
      "  <RequestId>4a0a5b0e-0000-0000-0000-000000000000</RequestId>\n"
      "</ErrorResponse>\n");
  CHECK(e.code == "AccessDenied");
  CHECK(e.message ==
        "User: arn:aws:iam::123456789012:user/x is not authorized to perform: sts:AssumeRole on resource: "
        "arn:aws:iam::123456789012:role/demo");

  SECTION("Absent parts are empty") {
    auto code_only =
        ParseStsErrorResponse("<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>");
    CHECK(code_only.code == "Throttling");
    CHECK(code_only.message.empty());
    auto none = ParseStsErrorResponse("<ErrorResponse><RequestId>x</RequestId></ErrorResponse>");
    CHECK(none.code.empty());
    CHECK(none.message.empty());
  }
  SECTION("Not an error document: both empty") {
    for (std::string_view body : {std::string_view(""), std::string_view("Service Unavailable"),
                                  std::string_view("<html><body>503</body></html>"),
                                  std::string_view("<ErrorResponse><Error><Code>AccessDenied</Code>"),
                                  std::string_view("<Error><Code>AccessDenied</Code></Error>")}) {
      INFO(body);
      auto none = ParseStsErrorResponse(body);
      CHECK(none.code.empty());
      CHECK(none.message.empty());
    }
  }
  SECTION("Long messages are cut at 300 bytes, between characters; control characters become spaces") {
    const std::string long_message = "a\tb\nc" + std::string(400, 'x');
    auto cut = ParseStsErrorResponse("<ErrorResponse><Error><Code>C</Code><Message>" + long_message +
                                     "</Message></Error></ErrorResponse>");
    CHECK(cut.message.size() == 300);
    CHECK(cut.message.starts_with("a b c"));
    CHECK(cut.message.ends_with("x..."));
    // 'é' is two bytes: the cut falls before one rather than through it.
    auto utf8 = ParseStsErrorResponse("<ErrorResponse><Error><Message>xy" + [] {
      std::string s;
      for (int i = 0; i < 200; ++i) s += "é";
      return s;
    }() + "</Message></Error></ErrorResponse>");
    CHECK(utf8.message.size() == 299);
    CHECK(utf8.message.substr(0, 4) == "xy\xC3\xA9");
    CHECK(utf8.message.ends_with("\xC3\xA9..."));
  }
}

TEST_CASE("No STS response error holds a secret", "[aws]") {
  const std::string xml = AssumeRoleXml();
  const std::vector<std::string> broken = {
      Replace(xml, "2026-11-26T19:00:00Z", std::string(kToken)),
      Replace(xml, "2026-11-26T19:00:00Z", std::string(kSecret)),
      Replace(xml, std::string(kToken), std::string(kToken) + "\x01"),
      Replace(xml, std::string(kToken), std::string(kToken) + " x"),
      Replace(xml, std::string(kToken), std::string(kToken) + "<b/>"),
      Replace(xml, std::string(kSecret), std::string(kSecret) + "&"),
      Replace(xml, std::string(kSecret), std::string(kSecret) + "</Oops>"),
      Replace(
          xml, "<SecretAccessKey>",
          std::string("<SecretAccessKey>") + std::string(kSecret) + "</SecretAccessKey><SecretAccessKey>"),
      Replace(xml, "<Expiration>", "<!DOCTYPE x><Expiration>"),
      xml.substr(0, xml.find("</SessionToken>")),
      xml.substr(0, xml.find("</SecretAccessKey>") - 2),
  };
  for (std::size_t i = 0; i < broken.size(); ++i) {
    for (std::string_view action : {"AssumeRole", "AssumeRoleWithWebIdentity"}) {
      auto parsed = ParseStsCredentialsResponse(broken[i], action);
      REQUIRE_FALSE(parsed.ok());
      INFO(i << ": " << parsed.error().message());
      for (std::string_view secret : {kSecret, kToken, kAccessKey}) {
        CHECK(parsed.error().message().find(secret) == std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace ferry::aws
