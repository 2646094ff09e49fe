// AWS Signature Version 4 request signing (Authorization-header mode), used to sign every request
// ferry sends to Kinesis and Firehose. Pure computation: no I/O, no clock, no global state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty = long-term credentials, no token
};

struct SigningParams {
  std::string region;
  std::string service;
  std::int64_t time = 0;       // seconds since the Unix epoch, UTC; the caller owns the clock
  bool normalize_path = true;  // RFC 3986 remove_dot_segments + collapse repeated '/' (false for S3-style)
  bool sign_body = false;      // if true, add header x-amz-content-sha256 with the payload hash and sign it
  // A few legacy services want X-Amz-Security-Token sent but left out of the signature (the
  // suite's post-sts-header-after). Kinesis and Firehose want it signed, hence the default.
  bool omit_session_token = false;
};

struct RequestToSign {
  std::string_view method;
  // Path as on the request line, before normalisation, no query. Every byte other than the
  // unreserved set and '/' is percent-encoded, so an already-encoded path ("%20") comes out
  // encoded twice ("%2520"), which is what SigV4 expects for every service but S3.
  std::string_view path;
  std::string_view query;  // raw query string without '?', may be empty
  // As sent: any case, may repeat, values untrimmed. All of them are signed (Host must be
  // among them), except Authorization and the headers the signer sets itself (see Signed).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // full Authorization header value
  // Headers the caller must add to the request: X-Amz-Date, X-Amz-Security-Token (if a session
  // token), x-amz-content-sha256 (if sign_body). Any header of the same name already in the
  // request was ignored for signing and must be replaced by these.
  std::vector<std::pair<std::string, std::string>> added_headers;
};

Signed SignRequest(const RequestToSign& request, const Credentials& credentials, const SigningParams& params);

// Lower-case hex SHA-256, used for payload hashes.
std::string Sha256Hex(std::string_view data);

// Basic ISO 8601 UTC timestamp as SigV4 wants it, e.g. 20150830T123600Z.
std::string AmzDate(std::int64_t time);

}  // namespace ferry::aws
