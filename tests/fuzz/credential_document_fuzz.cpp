// Fuzz target: ParseCredentialDocument and ParseIso8601Utc (agent/aws/credential_document), which read
// what IMDS, a container endpoint or a credential_process command hand back. Any input, read as each kind,
// must be refused with a message that names the kind, or give credentials that keep the kind's promises
// and read back the same from a freshly written document. A time that parses must be in range and read
// back the same once written in the canonical form. libFuzzer calls it on one thread.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "agent/aws/credential_document.h"
#include "agent/core/peer_text.h"
#include "agent/core/utc_time.h"

namespace {

using ferry::aws::CredentialDocumentKind;

// Extremes of ParseIso8601Utc: years 0000 to 9999, a leap second, offsets up to 23:59.
constexpr std::int64_t kFirst = -62167219200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kLast = 253402300799;   // 9999-12-31T23:59:59Z
constexpr std::int64_t kMaxOffset = 23 * 3600 + 59 * 60;

std::string_view Prefix(CredentialDocumentKind kind) {
  switch (kind) {
    case CredentialDocumentKind::kInstanceMetadata:
      return "instance metadata credentials: ";
    case CredentialDocumentKind::kContainer:
      return "container credentials: ";
    case CredentialDocumentKind::kProcess:
      return "credential_process output: ";
  }
  __builtin_trap();
}

std::string Write(const ferry::aws::DocumentCredentials& c, CredentialDocumentKind kind) {
  const bool process = kind == CredentialDocumentKind::kProcess;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  if (kind == CredentialDocumentKind::kInstanceMetadata) {
    w.Key("Code");
    w.String("Success");
  }
  if (process) {
    w.Key("Version");
    w.Int(1);
  }
  w.Key("AccessKeyId");
  w.String(c.access_key_id);
  w.Key("SecretAccessKey");
  w.String(c.secret_access_key);
  if (!c.session_token.empty()) {
    w.Key(process ? "SessionToken" : "Token");
    w.String(c.session_token);
  }
  if (c.expiration) {
    w.Key("Expiration");
    w.String(ferry::FormatIso8601Utc(*c.expiration));
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

void CheckDocument(std::string_view json, CredentialDocumentKind kind) {
  auto parsed = ferry::aws::ParseCredentialDocument(json, kind);
  if (!parsed) {
    if (parsed.error().code() != ferry::ErrorCode::kProtocol) __builtin_trap();
    if (!parsed.error().message().starts_with(Prefix(kind))) __builtin_trap();
    return;
  }
  const auto& c = *parsed;
  if (c.access_key_id.empty() || c.secret_access_key.empty() || !ferry::IsVisibleAscii(c.access_key_id) ||
      !ferry::IsVisibleAscii(c.secret_access_key) || !ferry::IsVisibleAscii(c.session_token)) {
    __builtin_trap();
  }
  if (kind != CredentialDocumentKind::kProcess && (c.session_token.empty() || !c.expiration))
    __builtin_trap();
  if (c.expiration && (*c.expiration < kFirst - kMaxOffset || *c.expiration > kLast + 1 + kMaxOffset)) {
    __builtin_trap();
  }
  if (c.expiration && (*c.expiration < kFirst || *c.expiration > kLast)) return;
  auto again = ferry::aws::ParseCredentialDocument(Write(c, kind), kind);
  if (!again || again->access_key_id != c.access_key_id || again->secret_access_key != c.secret_access_key ||
      again->session_token != c.session_token || again->expiration != c.expiration) {
    __builtin_trap();
  }
}

void CheckTime(std::string_view text) {
  const auto t = ferry::aws::ParseIso8601Utc(text);
  if (!t) return;
  if (*t < kFirst - kMaxOffset || *t > kLast + 1 + kMaxOffset) __builtin_trap();
  if (*t < kFirst || *t > kLast) return;
  if (ferry::aws::ParseIso8601Utc(ferry::FormatIso8601Utc(*t)) != t) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  for (auto kind : {CredentialDocumentKind::kInstanceMetadata, CredentialDocumentKind::kContainer,
                    CredentialDocumentKind::kProcess}) {
    CheckDocument(json, kind);
  }
  CheckTime(json);
  return 0;
}
