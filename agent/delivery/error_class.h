// ErrorClass: what the sender does about an error code from Kinesis or Firehose (a whole-request error or a
// per-record one) or about a request that got no answer: retry soon, retry slowly and tell the operator,
// dead-letter the records, fix the clock, or refresh the credentials.
#pragma once

#include <string_view>

namespace ferry {

enum class ErrorClass {
  kTransient,  // retry with exponential backoff: throttling, 5xx, transport errors, InternalFailure
  kOperator,  // retry slowly and log loudly: only an operator can fix it (missing stream, denied access, KMS)
  kPermanent,   // the endpoint will never take this record/request as it is: dead letter
  kSkew,        // signature rejected because of a skewed clock: correct the clock, retry at once
  kCredentials  // expired or invalid token: refresh credentials, retry
};

// ferry's own codes, for failures that are not an endpoint's error document:
inline constexpr std::string_view kUntrustedCertificate = "UntrustedCertificate";  // TLS peer did not verify
inline constexpr std::string_view kResponseTooLarge = "ResponseTooLarge";  // answer over the request's cap
inline constexpr std::string_view kEncodingFailed = "EncodingFailed";      // the request could not be built

// code: an error code as ferry's destinations report it (RequestOutcome::error_code or a per-record
// error): an AWS error type, with or without a namespace ("com.amazonaws.kinesis.v20131202#Foo") or a
// ":<url>" suffix; "transport" when no answer came; "InvalidResponse" for an unreadable 200 body; or
// "HTTP 503" when the error body named no type; or one of ferry's own codes above. http_status: 0 for
// per-record and transport errors (an "HTTP <n>" code then supplies it). message: the error's message,
// which tells a signature rejected for the clock from one rejected for the key. An untrusted certificate
// is the operator's to fix, like denied access; so is a bare 401 or 403 (no error type: a proxy or a load
// balancer refusing us). Unknown codes are transient: retrying never loses records, where a wrong dead
// letter would.
ErrorClass ClassifyError(std::string_view code, int http_status, std::string_view message = {});

// For logs and metrics: "transient", "operator", "permanent", "clock skew", "credentials".
std::string_view ErrorClassName(ErrorClass error_class);

}  // namespace ferry
