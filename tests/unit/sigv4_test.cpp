// Tests of the SigV4 signer (agent/aws/sigv4): every case of AWS's signing test suite in
// tests/data/sigv4 in header mode, plus known-answer tests of the pieces ferry relies on.
#include "agent/aws/sigv4.h"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef FERRY_SIGV4_SUITE
#error "FERRY_SIGV4_SUITE must name the tests/data/sigv4 folder"
#endif

namespace ferry::aws {
namespace {

namespace fs = std::filesystem;

const Credentials kExampleCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr std::int64_t kExampleTime = 1440938160;  // 2015-08-30T12:36:00Z, the suite's clock

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The suite's expected files carry no final newline today; tolerate one should an editor add it,
// since no canonical request, string to sign or signature can itself end with a newline.
std::string ReadExpected(const fs::path& path) {
  std::string text = ReadFile(path);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

// A request.txt parsed into what RequestToSign views; it owns the strings.
struct RawRequest {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Request line "METHOD target HTTP/1.1" (the target may hold raw spaces, as in get-space-*), then
// "Name:value" lines; a line starting with whitespace continues the previous value, kept with its
// line break so that folding is the signer's job. A blank line separates the body, kept byte-exact.
RawRequest ParseRequest(std::string_view text) {
  RawRequest request;
  std::size_t pos = 0;
  auto next_line = [&]() -> std::string_view {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = std::min(end + 1, text.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };

  const std::string_view request_line = next_line();
  const std::size_t first_space = request_line.find(' ');
  const std::size_t last_space = request_line.rfind(' ');
  REQUIRE(first_space != std::string_view::npos);
  REQUIRE(last_space > first_space);
  request.method = request_line.substr(0, first_space);
  const std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
  const std::size_t question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string_view::npos) request.query = target.substr(question + 1);

  while (pos < text.size()) {
    const std::string_view line = next_line();
    if (line.empty()) {
      request.body = text.substr(pos);
      break;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      REQUIRE(!request.headers.empty());
      request.headers.back().second += '\n';
      request.headers.back().second += line;
      continue;
    }
    const std::size_t colon = line.find(':');
    REQUIRE(colon != std::string_view::npos);
    request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return request;
}

// "2015-08-30T12:36:00Z" to seconds since the epoch.
std::int64_t ParseTimestamp(std::string_view text) {
  REQUIRE(text.size() == 20);
  auto number = [&](std::size_t offset, std::size_t len) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data() + offset, text.data() + offset + len, value);
    REQUIRE(ec == std::errc());
    REQUIRE(end == text.data() + offset + len);
    return value;
  };
  using namespace std::chrono;
  const sys_days day = year{number(0, 4)} / month{static_cast<unsigned>(number(5, 2))} /
                       std::chrono::day{static_cast<unsigned>(number(8, 2))};
  const sys_seconds tp = day + hours{number(11, 2)} + minutes{number(14, 2)} + seconds{number(17, 2)};
  return tp.time_since_epoch().count();
}

struct SuiteContext {
  Credentials credentials;
  SigningParams params;
};

SuiteContext ParseContext(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  // HasMember and operator[] rather than FindMember: rapidjson's iterator comparisons are
  // ambiguous under C++20's reversed operators, which clang rejects with -Werror.
  auto string_member = [](const rapidjson::Value& object, const char* name) -> std::string {
    if (!object.HasMember(name)) return {};
    const rapidjson::Value& value = object[name];
    REQUIRE(value.IsString());
    return {value.GetString(), value.GetStringLength()};
  };
  auto bool_member = [](const rapidjson::Value& object, const char* name, bool fallback) {
    if (!object.HasMember(name)) return fallback;
    const rapidjson::Value& value = object[name];
    REQUIRE(value.IsBool());
    return value.GetBool();
  };

  SuiteContext context;
  REQUIRE(doc.HasMember("credentials"));
  const rapidjson::Value& credentials = doc["credentials"];
  REQUIRE(credentials.IsObject());
  context.credentials.access_key_id = string_member(credentials, "access_key_id");
  context.credentials.secret_access_key = string_member(credentials, "secret_access_key");
  context.credentials.session_token = string_member(credentials, "token");
  context.params.region = string_member(doc, "region");
  context.params.service = string_member(doc, "service");
  context.params.time = ParseTimestamp(string_member(doc, "timestamp"));
  context.params.normalize_path = bool_member(doc, "normalize", true);
  context.params.sign_body = bool_member(doc, "sign_body", false);
  context.params.omit_session_token = bool_member(doc, "omit_session_token", false);
  return context;
}

RequestToSign View(const RawRequest& raw) {
  return RequestToSign{raw.method, raw.path, raw.query, raw.headers, raw.body};
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Value of the first "Name:value" line of a signed request whose name matches case-insensitively.
std::string FindHeaderLine(std::string_view signed_request, std::string_view name) {
  std::istringstream in{std::string(signed_request)};
  const std::string wanted = Lower(name);
  for (std::string line; std::getline(in, line);) {
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos && Lower(std::string_view(line).substr(0, colon)) == wanted) {
      return line.substr(colon + 1);
    }
  }
  return "<missing " + std::string(name) + ">";
}

// Line `index` (0-based) of a canonical request: 1 is the URI, 2 the query.
std::string Line(const std::string& text, int index) {
  std::istringstream in(text);
  std::string line;
  for (int i = 0; i <= index; ++i) std::getline(in, line);
  return line;
}

Signed SignExample(std::string_view method, std::string_view path, std::string_view query,
                   std::vector<std::pair<std::string, std::string>> headers, bool normalize = true) {
  SigningParams params{"us-east-1", "service", kExampleTime, normalize, false, false};
  headers.emplace_back("Host", "example.amazonaws.com");
  return SignRequest(RequestToSign{method, path, query, std::move(headers), {}}, kExampleCredentials, params);
}

TEST_CASE("SigV4 signer passes every case of the AWS signing test suite", "[sigv4]") {
  const fs::path suite{FERRY_SIGV4_SUITE};
  std::vector<fs::path> cases;
  std::error_code ec;
  for (fs::directory_iterator it(suite, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) cases.push_back(it->path());
  }
  std::sort(cases.begin(), cases.end());
  INFO("suite folder: " << suite.string());
  REQUIRE(cases.size() >= 38);

  std::size_t passed = 0;
  for (const fs::path& dir : cases) {
    INFO("case " << dir.filename().string());
    const SuiteContext context = ParseContext(ReadFile(dir / "context.json"));
    const RawRequest raw = ParseRequest(ReadFile(dir / "request.txt"));
    const Signed result = SignRequest(View(raw), context.credentials, context.params);

    const std::string expected_canonical = ReadExpected(dir / "header-canonical-request.txt");
    const std::string expected_to_sign = ReadExpected(dir / "header-string-to-sign.txt");
    const std::string expected_signature = ReadExpected(dir / "header-signature.txt");
    CHECK(result.canonical_request == expected_canonical);
    CHECK(result.string_to_sign == expected_to_sign);
    CHECK(result.signature == expected_signature);

    // The signed request shows the final Authorization value and every header the signer adds.
    const std::string signed_request = ReadFile(dir / "header-signed-request.txt");
    CHECK(result.authorization == FindHeaderLine(signed_request, "Authorization"));
    for (const auto& [name, value] : result.added_headers) {
      INFO("added header " << name);
      CHECK(value == FindHeaderLine(signed_request, name));
    }
    if (result.canonical_request == expected_canonical && result.string_to_sign == expected_to_sign &&
        result.signature == expected_signature) {
      ++passed;
    }
  }
  CHECK(passed == cases.size());
}

TEST_CASE("Sha256Hex gives lower-case hex digests", "[sigv4]") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex(std::string_view()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("AmzDate formats UTC seconds as basic ISO 8601", "[sigv4]") {
  CHECK(AmzDate(kExampleTime) == "20150830T123600Z");
  CHECK(AmzDate(0) == "19700101T000000Z");
  CHECK(AmzDate(951782400) == "20000229T000000Z");
  CHECK(AmzDate(4102444799) == "20991231T235959Z");
}

TEST_CASE("SigV4 signs a Kinesis PutRecords request with a session token", "[sigv4]") {
  const std::string body = R"({"StreamName":"logs","Records":[{"Data":"aGVsbG8=","PartitionKey":"a"}]})";
  const Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                "FwoGZXIvYXdzEXAMPLETOKEN"};
  const SigningParams params{"us-east-1", "kinesis", kExampleTime};
  const RequestToSign request{"POST",
                              "/",
                              "",
                              {{"Host", "kinesis.us-east-1.amazonaws.com"},
                               {"Content-Type", "application/x-amz-json-1.1"},
                               {"X-Amz-Target", "Kinesis_20131202.PutRecords"}},
                              body};
  const Signed result = SignRequest(request, credentials, params);

  // Expected signature computed independently (Python hashlib/hmac from the canonical request).
  CHECK(result.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
        "Signature=e4aa85b02c4cbec21d0c33bd05955d2b23befeedfe18c2eeeff3c0ce8857f3dd");
  CHECK(result.signature == "e4aa85b02c4cbec21d0c33bd05955d2b23befeedfe18c2eeeff3c0ce8857f3dd");
  const std::vector<std::pair<std::string, std::string>> added{
      {"X-Amz-Date", "20150830T123600Z"}, {"X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLETOKEN"}};
  CHECK(result.added_headers == added);

  SECTION("omitting the token from the signature still hands it back to send") {
    SigningParams omit = params;
    omit.omit_session_token = true;
    const Signed unsigned_token = SignRequest(request, credentials, omit);
    CHECK(unsigned_token.authorization.find("SignedHeaders=content-type;host;x-amz-date;x-amz-target,") !=
          std::string::npos);
    CHECK(unsigned_token.added_headers == added);
  }

  SECTION("sign_body adds and signs x-amz-content-sha256") {
    SigningParams sign_body = params;
    sign_body.sign_body = true;
    const Signed with_hash = SignRequest(request, credentials, sign_body);
    CHECK(with_hash.authorization.find("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-"
                                       "amz-security-token;x-amz-target,") != std::string::npos);
    REQUIRE(with_hash.added_headers.size() == 3);
    CHECK(with_hash.added_headers[2] ==
          std::pair<std::string, std::string>("x-amz-content-sha256", Sha256Hex(body)));
  }
}

TEST_CASE("SigV4 replaces headers the signer owns", "[sigv4]") {
  const Signed stale = SignExample("GET", "/", "",
                                   {{"X-Amz-Date", "20000101T000000Z"},
                                    {"Authorization", "AWS4-HMAC-SHA256 old"},
                                    {"x-amz-security-token", "old-token"}});
  // Without a session token in the credentials, a token already on the request is the caller's
  // and is signed as is; date and Authorization never are.
  CHECK(
      stale.canonical_request ==
      "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:old-token\n\n"
      "host;x-amz-date;x-amz-security-token\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  const Credentials with_token{"AKIDEXAMPLE", "secret", "new-token"};
  const SigningParams params{"us-east-1", "service", kExampleTime};
  const Signed replaced = SignRequest(
      RequestToSign{
          "GET", "/", "", {{"Host", "example.amazonaws.com"}, {"X-Amz-Security-Token", "old-token"}}, {}},
      with_token, params);
  CHECK(replaced.canonical_request.find("old-token") == std::string::npos);
  CHECK(replaced.canonical_request.find("x-amz-security-token:new-token\n") != std::string::npos);
}

TEST_CASE("SigV4 canonical URI", "[sigv4]") {
  CHECK(Line(SignExample("GET", "/a/b/../c/./d", "", {}).canonical_request, 1) == "/a/c/d");
  CHECK(Line(SignExample("GET", "/a/b/..", "", {}).canonical_request, 1) == "/a/");
  CHECK(Line(SignExample("GET", "/a//b///", "", {}).canonical_request, 1) == "/a/b/");
  CHECK(Line(SignExample("GET", "/../../a", "", {}).canonical_request, 1) == "/a");
  CHECK(Line(SignExample("GET", "", "", {}).canonical_request, 1) == "/");
  CHECK(Line(SignExample("GET", "", "", {}, false).canonical_request, 1) == "/");
  // Already-encoded input is encoded again: SigV4's double encoding for non-S3 services.
  CHECK(Line(SignExample("GET", "/a%20b", "", {}).canonical_request, 1) == "/a%2520b");
  CHECK(Line(SignExample("GET", "/a+b:c@d", "", {}).canonical_request, 1) == "/a%2Bb%3Ac%40d");
  CHECK(Line(SignExample("GET", "/a//./b", "", {}, false).canonical_request, 1) == "/a//./b");
}

TEST_CASE("SigV4 canonical query", "[sigv4]") {
  CHECK(Line(SignExample("GET", "/", "b=2&a=&c", {}).canonical_request, 2) == "a=&b=2&c=");
  CHECK(Line(SignExample("GET", "/", "a=z&a=%7e&a=1", {}).canonical_request, 2) == "a=1&a=z&a=~");
  CHECK(Line(SignExample("GET", "/", "k=a+b%20c&&x=%2F%zz", {}).canonical_request, 2) ==
        "k=a%2Bb%20c&x=%2F%25zz");
}

TEST_CASE("SigV4 canonical headers", "[sigv4]") {
  const Signed result = SignExample("GET", "/", "",
                                    {{" X-B ", "  two\t\twords  "},
                                     {"x-a", "1"},
                                     {"X-A", " 2 "},
                                     {"x-c", "folded\r\n   onto\n\tone line"},
                                     {"x-empty", "   "}});
  CHECK(result.canonical_request ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-a:1,2\nx-amz-date:20150830T123600Z\nx-b:two words\n"
        "x-c:folded onto one line\nx-empty:\n\nhost;x-a;x-amz-date;x-b;x-c;x-empty\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace ferry::aws
