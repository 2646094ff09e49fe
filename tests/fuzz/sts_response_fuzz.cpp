// Fuzz target: the STS query-protocol module (agent/aws/sts_response), whose responses come from the
// network. Any input, read as either action's response, must be refused with a message that names the
// action, or give credentials that are non-empty visible ASCII and read back the same from a freshly
// written response. ParseStsErrorResponse must keep to its bounds, and the request bodies must percent-
// encode the input so that it decodes back. libFuzzer calls it on one thread.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "agent/aws/sts_response.h"
#include "agent/core/peer_text.h"
#include "agent/core/utc_time.h"

namespace {

std::string Escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void CheckCredentials(std::string_view body, std::string_view action) {
  auto parsed = ferry::aws::ParseStsCredentialsResponse(body, action);
  if (!parsed) {
    if (parsed.error().code() != ferry::ErrorCode::kProtocol) __builtin_trap();
    if (!parsed.error().message().starts_with("STS " + std::string(action) + " response: ")) __builtin_trap();
    return;
  }
  const auto& c = *parsed;
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty() ||
      !ferry::IsVisibleAscii(c.access_key_id) || !ferry::IsVisibleAscii(c.secret_access_key) ||
      !ferry::IsVisibleAscii(c.session_token)) {
    __builtin_trap();
  }
  // Offsets and leap seconds may carry a time just outside the years the writer below handles.
  if (c.expiration < -62167219200 || c.expiration > 253402300799) return;
  const std::string a(action);
  const std::string written =
      "<" + a + "Response><" + a + "Result><Credentials><AccessKeyId>" + Escaped(c.access_key_id) +
      "</AccessKeyId><SecretAccessKey>" + Escaped(c.secret_access_key) + "</SecretAccessKey><SessionToken>" +
      Escaped(c.session_token) + "</SessionToken><Expiration>" + ferry::FormatIso8601Utc(c.expiration) +
      "</Expiration></Credentials></" + a + "Result></" + a + "Response>";
  auto again = ferry::aws::ParseStsCredentialsResponse(written, action);
  if (!again || again->access_key_id != c.access_key_id || again->secret_access_key != c.secret_access_key ||
      again->session_token != c.session_token || again->expiration != c.expiration) {
    __builtin_trap();
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower-case hex is not what the encoder writes
}

void CheckEncoding(std::string_view value) {
  const std::string body = ferry::aws::StsAssumeRoleWithWebIdentityBody("r", "s", value, 0);
  const std::string_view prefix =
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=r&RoleSessionName=s"
      "&WebIdentityToken=";
  if (!std::string_view(body).starts_with(prefix)) __builtin_trap();
  const std::string_view encoded = std::string_view(body).substr(prefix.size());
  std::string decoded;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '%') {
      if (i + 2 >= encoded.size()) __builtin_trap();
      const int hi = HexValue(encoded[i + 1]);
      const int lo = HexValue(encoded[i + 2]);
      if (hi < 0 || lo < 0) __builtin_trap();
      decoded.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '_' || c == '~') {
      decoded.push_back(c);
    } else {
      __builtin_trap();
    }
  }
  if (decoded != value) __builtin_trap();
}

void CheckErrorResponse(std::string_view body) {
  const auto e = ferry::aws::ParseStsErrorResponse(body);
  if (e.code.size() > 128 || e.message.size() > 300) __builtin_trap();
  for (const std::string* s : {&e.code, &e.message}) {
    for (char c : *s) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  CheckCredentials(body, "AssumeRole");
  CheckCredentials(body, "AssumeRoleWithWebIdentity");
  CheckErrorResponse(body);
  CheckEncoding(body);
  return 0;
}
