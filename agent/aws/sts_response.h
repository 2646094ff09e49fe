// AWS STS, query protocol (STS API reference, version 2011-06-15): the form-encoded request bodies of
// AssumeRole and AssumeRoleWithWebIdentity, and readers of the XML that comes back, for the credential
// chain's role providers. Pure functions: no I/O, no clock, no state; safe to call from any thread.
//
// Responses are read with expat, strictly: the root must be <ACTIONResponse>, the credentials must sit at
// <ACTIONResponse><ACTIONResult><Credentials> with each of AccessKeyId, SecretAccessKey, SessionToken and
// Expiration exactly once, as non-empty visible ASCII (they go into HTTP headers); other elements are
// ignored, and names match by their local part whatever the namespace. A DOCTYPE is refused outright, so
// no entity is ever declared or expanded ("billion laughs", external entities); bodies are capped at 1 MiB.
// Errors are ErrorCode::kProtocol and say what is wrong ("STS AssumeRole response: no <SessionToken> in
// <Credentials>", "... not XML: mismatched tag at line 3"), never a value: values are secrets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry::aws {

struct StsAssumeRoleRequest {
  std::string role_arn;
  std::string role_session_name;
  std::string external_id;            // empty: not sent
  std::int32_t duration_seconds = 0;  // 0: not sent, for STS's default (one hour)
};

// "Action=AssumeRole&Version=2011-06-15&RoleArn=..&RoleSessionName=..[&ExternalId=..][&DurationSeconds=..]",
// for Content-Type application/x-www-form-urlencoded. Values are percent-encoded as SigV4 encodes them
// (RFC 3986: unreserved characters kept, every other byte %XX, upper-case hex; a space is %20, not '+').
std::string StsAssumeRoleBody(const StsAssumeRoleRequest& request);

// The same for AssumeRoleWithWebIdentity (an OIDC token, as EKS IRSA mounts it), which is sent unsigned.
std::string StsAssumeRoleWithWebIdentityBody(std::string_view role_arn, std::string_view role_session_name,
                                             std::string_view web_identity_token,
                                             std::int32_t duration_seconds);

struct StsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::int64_t expiration = 0;  // unix seconds
};

// The 200 response of `action` ("AssumeRole", "AssumeRoleWithWebIdentity"; any action that answers with
// <ACTIONResult><Credentials>, such as GetSessionToken, reads the same way).
Result<StsCredentials> ParseStsCredentialsResponse(std::string_view body, std::string_view action);

struct StsError {
  std::string code;     // "AccessDenied", "ExpiredTokenException"; empty when absent
  std::string message;  // at most 300 bytes, control characters replaced; empty when absent
};

// The <ErrorResponse><Error><Code>..</Code><Message>..</Message></Error></ErrorResponse> of a failed call.
// Both empty when the body is not such a document (a proxy's HTML page, a truncated body).
StsError ParseStsErrorResponse(std::string_view body);

}  // namespace ferry::aws
