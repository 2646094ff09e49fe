// Credential documents: rapidjson's DOM (the documents are small), one pass over the members to find the
// ones this kind reads, then each checked in turn. See credential_document.h for the shapes.
#include "agent/aws/credential_document.h"

#include <array>
#include <cstddef>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "agent/core/peer_text.h"
#include "agent/core/utc_time.h"

namespace ferry::aws {
namespace {

// Real documents are under 2 KiB; a peer that sends more is not a credentials endpoint.
constexpr std::size_t kMaxDocumentBytes = std::size_t{64} << 10;

// Only non-secret values (Code) are ever quoted, and then cut short: a hostile peer chooses them.
constexpr std::size_t kQuoteBytes = 64;

std::string_view KindName(CredentialDocumentKind kind) {
  switch (kind) {
    case CredentialDocumentKind::kInstanceMetadata:
      return "instance metadata credentials";
    case CredentialDocumentKind::kContainer:
      return "container credentials";
    case CredentialDocumentKind::kProcess:
      return "credential_process output";
  }
  return "credentials document";
}

// A member this kind reads. `value` stays null for an absent member and for a JSON null, which the AWS
// CLI also takes as absent (credential_process scripts write "SessionToken": null).
struct Field {
  const char* name;  // nullptr: not read by this kind
  const rapidjson::Value* value = nullptr;
  bool seen = false;
};

class DocumentReader {
 public:
  explicit DocumentReader(CredentialDocumentKind kind) : kind_(kind) {}

  Error Fail(std::string_view problem) const {
    return Error(ErrorCode::kProtocol, fmt::format("{}: {}", KindName(kind_), problem));
  }

  Result<DocumentCredentials> Read(std::string_view json) {
    if (json.size() > kMaxDocumentBytes) {
      return Fail(fmt::format("{} bytes, more than the 64 KiB a credential document may be", json.size()));
    }
    rapidjson::Document doc;
    // Iterative: deep nesting cannot exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
    if (doc.HasParseError()) {
      return Fail(fmt::format("not JSON: {} at byte {}", rapidjson::GetParseError_En(doc.GetParseError()),
                              doc.GetErrorOffset()));
    }
    if (!doc.IsObject()) return Fail("not a JSON object");
    if (Status found = Find(doc); !found) return found.error();

    switch (kind_) {
      case CredentialDocumentKind::kInstanceMetadata: {
        // IMDS reports a failure to get the role's credentials as a Code in an otherwise usual document.
        auto code = String(code_, true);
        if (!code) return code.error();
        if (*code != "Success")
          return Fail(fmt::format("\"Code\" is \"{}\", not \"Success\"", QuotePeerText(*code, kQuoteBytes)));
        break;
      }
      case CredentialDocumentKind::kProcess: {
        if (version_.value == nullptr) return Fail("\"Version\" is missing");
        if (!version_.value->IsInt64()) return Fail("\"Version\" is not the number 1");
        // Version 1 is the only one the AWS CLI defines; a later one may change what the members mean.
        if (version_.value->GetInt64() != 1) {
          return Fail(fmt::format("\"Version\" is {}, not 1", version_.value->GetInt64()));
        }
        break;
      }
      case CredentialDocumentKind::kContainer:
        break;
    }

    const bool process = kind_ == CredentialDocumentKind::kProcess;
    DocumentCredentials out;
    auto key = Secret(key_, true);
    if (!key) return key.error();
    auto secret = Secret(secret_, true);
    if (!secret) return secret.error();
    // credential_process may hand out long-term keys; an empty SessionToken there means none.
    auto token = Secret(token_, !process);
    if (!token) return token.error();
    out.access_key_id = std::move(*key);
    out.secret_access_key = std::move(*secret);
    out.session_token = std::move(*token);

    if (expiration_.value == nullptr) {
      if (!process) return Fail("\"Expiration\" is missing");
    } else {
      if (!expiration_.value->IsString()) return Fail("\"Expiration\" is not a string");
      out.expiration = ParseIso8601Utc(View(*expiration_.value));
      if (!out.expiration) return Fail("\"Expiration\" is not an ISO 8601 UTC time");
    }
    return out;
  }

 private:
  static std::string_view View(const rapidjson::Value& string) {
    return {string.GetString(), string.GetStringLength()};
  }

  // One pass over the members, indexing rather than comparing member iterators: clang rejects rapidjson's
  // iterator comparisons as ambiguous in C++20 (see put_records_codec.cpp).
  Status Find(const rapidjson::Value& doc) {
    std::array<Field*, 6> fields = {&code_, &version_, &key_, &secret_, &token_, &expiration_};
    const auto members = doc.MemberBegin();
    for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
      const auto& member = members[i];
      const std::string_view name = View(member.name);
      for (Field* field : fields) {
        if (field->name == nullptr || name != field->name) continue;
        // Two AccessKeyIds leave no right answer: the JSON spec leaves duplicates to the reader.
        if (field->seen) return Fail(fmt::format("\"{}\" appears more than once", field->name));
        field->seen = true;
        if (!member.value.IsNull()) field->value = &member.value;
      }
    }
    return Status::Ok();
  }

  Result<std::string> String(const Field& field, bool required) const {
    if (field.value == nullptr) {
      if (required) return Fail(fmt::format("\"{}\" is missing", field.name));
      return std::string();
    }
    if (!field.value->IsString()) return Fail(fmt::format("\"{}\" is not a string", field.name));
    return std::string(View(*field.value));
  }

  // Checked as String, and never quoted: the value may be a secret.
  Result<std::string> Secret(const Field& field, bool required) const {
    auto value = String(field, required);
    if (!value) return value;
    if (value->empty()) {
      if (required) return Fail(fmt::format("\"{}\" is empty", field.name));
    } else if (!IsVisibleAscii(*value)) {
      return Fail(fmt::format("\"{}\" holds a character other than visible ASCII", field.name));
    }
    return value;
  }

  CredentialDocumentKind kind_;
  // Only the members this kind reads count: a duplicate "Token" in credential_process output is ignored
  // like any other unknown member.
  Field code_{kind_ == CredentialDocumentKind::kInstanceMetadata ? "Code" : nullptr};
  Field version_{kind_ == CredentialDocumentKind::kProcess ? "Version" : nullptr};
  Field key_{"AccessKeyId"};
  Field secret_{"SecretAccessKey"};
  Field token_{kind_ == CredentialDocumentKind::kProcess ? "SessionToken" : "Token"};
  Field expiration_{"Expiration"};
};

}  // namespace

Result<DocumentCredentials> ParseCredentialDocument(std::string_view json, CredentialDocumentKind kind) {
  return DocumentReader(kind).Read(json);
}

std::optional<std::int64_t> ParseIso8601Utc(std::string_view text) {
  // "2026-11-26T19:00:00": fixed positions, then the fraction and the zone.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const auto year = ParseDigits(text.substr(0, 4));
  const auto month = ParseDigits(text.substr(5, 2));
  const auto day = ParseDigits(text.substr(8, 2));
  const auto hour = ParseDigits(text.substr(11, 2));
  const auto minute = ParseDigits(text.substr(14, 2));
  const auto second = ParseDigits(text.substr(17, 2));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  const auto local = UnixSecondsFromUtc(*year, *month, *day, *hour, *minute, *second);
  if (!local) return std::nullopt;

  std::string_view zone = text.substr(19);
  if (zone.starts_with('.')) {
    std::size_t n = 1;
    while (n < zone.size() && zone[n] >= '0' && zone[n] <= '9') ++n;
    if (n == 1) return std::nullopt;
    zone.remove_prefix(n);
  }
  int offset = 0;  // seconds east of UTC
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    const auto zone_hour = ParseDigits(zone.substr(1, 2));
    const auto zone_minute = ParseDigits(zone.substr(4, 2));
    if (!zone_hour || !zone_minute || *zone_hour > 23 || *zone_minute > 59) return std::nullopt;
    offset = (*zone_hour * 3600 + *zone_minute * 60) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  return *local - offset;
}

}  // namespace ferry::aws
