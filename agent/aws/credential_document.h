// Credential documents: the JSON that hands ferry temporary AWS credentials, in the three shapes AWS uses.
// The credential chain's IMDS, container and credential_process providers fetch or run; this file only
// reads what they got. Pure functions: no I/O, no clock, no state; safe to call from any thread.
//
//  - kInstanceMetadata, EC2 IMDS /latest/meta-data/iam/security-credentials/<role>:
//      {"Code":"Success","LastUpdated":"..","Type":"AWS-HMAC","AccessKeyId":"..","SecretAccessKey":"..",
//       "Token":"..","Expiration":"2026-11-26T19:00:00Z"}
//    A Code other than "Success" is refused, naming the code.
//  - kContainer, the ECS (and EKS Pod Identity) container credentials endpoint:
//      {"AccessKeyId":"..","SecretAccessKey":"..","Token":"..","Expiration":"..","RoleArn":".."}
//  - kProcess, the stdout of a credential_process command (AWS CLI "sourcing credentials with an external
//    process"): {"Version":1,"AccessKeyId":"..","SecretAccessKey":"..","SessionToken":"..",
//    "Expiration":".."}; Version must be 1, SessionToken and Expiration may be absent (or null): without
//    an Expiration the credentials never expire.
//
// Token and Expiration are required for the first two. Members not named here are ignored; a named member
// given twice is refused. Key, secret and token must be non-empty visible ASCII (they go into HTTP headers,
// so a CR or LF from a broken endpoint must not reach one). Errors are ErrorCode::kProtocol and name the
// kind and the member ("container credentials: \"Expiration\" is not an ISO 8601 UTC time"), never a
// value: values may be secrets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry::aws {

enum class CredentialDocumentKind { kInstanceMetadata, kContainer, kProcess };

struct DocumentCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;               // empty: long-term credentials (credential_process only)
  std::optional<std::int64_t> expiration;  // unix seconds; nullopt: never expires (credential_process only)
};

// Parses one document (at most 64 KiB; real ones are under 2 KiB).
Result<DocumentCredentials> ParseCredentialDocument(std::string_view json, CredentialDocumentKind kind);

// An RFC 3339 / ISO 8601 extended date-time as unix seconds: "YYYY-MM-DDTHH:MM:SS" then optional
// fractional seconds (dropped, so the result is rounded down) then "Z" or an offset "+HH:MM" / "-HH:MM",
// which is applied ("2026-11-26T20:00:00+01:00" is 19:00 UTC). 'T' and 'Z' may be lower-case, as RFC 3339
// allows; second 60 (a leap second) is taken as the next second's start. nullopt for anything else,
// including out-of-range fields (month 13, February 30, hour 24, offset +24:00).
std::optional<std::int64_t> ParseIso8601Utc(std::string_view text);

}  // namespace ferry::aws
