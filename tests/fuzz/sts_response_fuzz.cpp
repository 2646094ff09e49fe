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

namespace {

bool VisibleAscii(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

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

// Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (Howard Hinnant's civil_from_days), for years 0 to 9999.
std::string Iso8601(std::int64_t t) {
  std::int64_t days = t / 86400;
  std::int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

void CheckCredentials(std::string_view body, std::string_view action) {
  auto parsed = ferry::aws::ParseStsCredentialsResponse(body, action);
  if (!parsed) {
    if (parsed.error().code() != ferry::ErrorCode::kProtocol) __builtin_trap();
    if (!parsed.error().message().starts_with("STS " + std::string(action) + " response: ")) __builtin_trap();
    return;
  }
  const auto& c = *parsed;
  if (!VisibleAscii(c.access_key_id) || !VisibleAscii(c.secret_access_key) ||
      !VisibleAscii(c.session_token)) {
    __builtin_trap();
  }
  // Offsets and leap seconds may carry a time just outside the years the writer below handles.
  if (c.expiration < -62167219200 || c.expiration > 253402300799) return;
  const std::string a(action);
  const std::string written =
      "<" + a + "Response><" + a + "Result><Credentials><AccessKeyId>" + Escaped(c.access_key_id) +
      "</AccessKeyId><SecretAccessKey>" + Escaped(c.secret_access_key) + "</SecretAccessKey><SessionToken>" +
      Escaped(c.session_token) + "</SessionToken><Expiration>" + Iso8601(c.expiration) +
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
