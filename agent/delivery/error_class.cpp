// ErrorClass: a table of the error codes Kinesis PutRecords and Firehose PutRecordBatch document, plus the
// errors common to every AWS API, each with the class of action it calls for. Codes are matched exactly
// (AWS spells them one way); anything not in the table is transient.
#include "agent/delivery/error_class.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace ferry {
namespace {

using enum ErrorClass;

// Where each group comes from:
// - Kinesis Data Streams API Reference, PutRecords > Errors, and PutRecordsResultEntry.ErrorCode (per
//   record: ProvisionedThroughputExceededException or InternalFailure).
// - Amazon Data Firehose API Reference, PutRecordBatch > Errors, and PutRecordBatchResponseEntry.ErrorCode
//   (per record: ServiceUnavailableException or InternalFailure).
// - AWS "Common Errors" / "Common Error Types", listed in every service's API reference.
constexpr std::pair<std::string_view, ErrorClass> kCodes[] = {
    // Transient: the service is busy or failed inside; the same request can succeed later.
    {"ProvisionedThroughputExceededException", kTransient},  // Kinesis: shard over 1 MiB/s or 1,000 rec/s
    {"InternalFailure", kTransient},                         // Kinesis/Firehose per record; common (500)
    {"InternalFailureException", kTransient},                // Kinesis PutRecords
    {"KMSThrottlingException", kTransient},                  // Kinesis PutRecords
    {"LimitExceededException", kTransient},                  // Kinesis: too many concurrent control calls
    {"ServiceUnavailable", kTransient},                      // common (503)
    {"ServiceUnavailableException", kTransient},             // Firehose PutRecordBatch, per record too
    {"ThrottlingException", kTransient},                     // common
    {"Throttling", kTransient},                              // common (query-protocol spelling)
    {"TooManyRequestsException", kTransient},                // common (429)
    {"RequestTimeout", kTransient},                          // common (408)
    {"RequestTimeoutException", kTransient},                 // common (408)
    {"RequestAbortedException", kTransient},                 // common: the connection closed early
    {"transport", kTransient},                               // ferry: no answer at all
    {"InvalidResponse", kTransient},                         // ferry: a 200 whose body could not be read
    {kResponseTooLarge, kTransient},                         // ferry: an answer longer than it may be
    {kEncodingFailed, kTransient},                           // ferry: out of memory building the request

    // Operator: the stream, the key or the permissions are wrong; retrying only helps once someone fixes
    // them, so retries go slowly and the log says what to fix.
    {"ResourceNotFoundException", kOperator},    // Kinesis, Firehose: no such stream
    {"ResourceInUseException", kOperator},       // Kinesis: stream being created, updated or deleted
    {"AccessDeniedException", kOperator},        // Kinesis PutRecords; common
    {"AccessDenied", kOperator},                 // common (query-protocol spelling)
    {"KMSAccessDeniedException", kOperator},     // Kinesis PutRecords: the stream's KMS key
    {"KMSDisabledException", kOperator},         // Kinesis PutRecords
    {"KMSInvalidStateException", kOperator},     // Kinesis PutRecords
    {"KMSNotFoundException", kOperator},         // Kinesis PutRecords
    {"KMSOptInRequired", kOperator},             // Kinesis PutRecords
    {"InvalidKMSResourceException", kOperator},  // Firehose PutRecordBatch: any KMS failure
    {"InvalidSourceException", kOperator},       // Firehose PutRecordBatch: stream set up for CloudWatch Logs
    {"UnrecognizedClientException", kOperator},  // common: unknown access key
    {"InvalidClientTokenId", kOperator},         // common (403)
    {"MissingAuthenticationToken", kOperator},   // common (403)
    {"IncompleteSignature", kOperator},          // common
    {"NotAuthorized", kOperator},                // common
    {"OptInRequired", kOperator},                // common (403): account not subscribed to the service
    {"InvalidAction", kOperator},                // common: the endpoint is not the API ferry thinks it is
    {"MissingAction", kOperator},                // common: ditto
    {"UnknownOperationException", kOperator},    // JSON-protocol services: ditto
    {kUntrustedCertificate, kOperator},          // ferry: the TLS peer did not verify (aws.ca_file, the host)

    // Permanent: the service will never accept this record or request as it is.
    {"ValidationException", kPermanent},             // common (JSON protocol)
    {"ValidationError", kPermanent},                 // common (query protocol)
    {"InvalidArgumentException", kPermanent},        // Kinesis PutRecords, Firehose PutRecordBatch
    {"SerializationException", kPermanent},          // JSON protocol: the body does not match the shape
    {"InvalidParameterValue", kPermanent},           // common
    {"InvalidParameterCombination", kPermanent},     // common
    {"MissingParameter", kPermanent},                // common
    {"RequestEntityTooLargeException", kPermanent},  // common (413)
    {"MalformedHttpRequestException", kPermanent},   // common: body cannot be read (content encoding)

    // Skew: the request's date is too far from the service's clock (15 minutes, says the common errors
    // page). InvalidSignatureException and SignatureDoesNotMatch are decided by their message instead.
    {"RequestExpired", kSkew},        // common
    {"RequestTimeTooSkewed", kSkew},  // S3-style services
    {"InvalidSignatureException", kOperator},
    {"SignatureDoesNotMatch", kOperator},

    // Credentials: temporary credentials ran out; fresh ones from the provider chain fix it.
    {"ExpiredTokenException", kCredentials},  // common (403)
    {"ExpiredToken", kCredentials},           // common (query-protocol spelling)
    {"TokenRefreshRequired", kCredentials},   // STS-issued tokens that must be renewed
};

// "com.amazonaws.kinesis.v20131202#ResourceNotFoundException" and "ValidationException:http://..." (the
// x-amzn-ErrorType header form) both name the type in their middle.
std::string_view BareCode(std::string_view code) {
  if (auto colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  if (auto hash = code.rfind('#'); hash != std::string_view::npos) code.remove_prefix(hash + 1);
  while (!code.empty() && code.front() == ' ') code.remove_prefix(1);
  while (!code.empty() && code.back() == ' ') code.remove_suffix(1);
  return code;
}

// The status in an "HTTP 503" code (what the destinations report for an error body without a type), else 0.
int StatusInCode(std::string_view code) {
  constexpr std::string_view kPrefix = "HTTP ";
  if (!code.starts_with(kPrefix)) return 0;
  code.remove_prefix(kPrefix.size());
  int status = 0;
  auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
  if (ec != std::errc() || end != code.data() + code.size()) return 0;
  return status;
}

bool ContainsNoCase(std::string_view text, std::string_view word) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  auto hit = std::search(text.begin(), text.end(), word.begin(), word.end(),
                         [&](char a, char b) { return lower(a) == lower(b); });
  return hit != text.end();
}

// SigV4 rejects a date outside its window with "Signature expired: <date> is now earlier than ..." or
// "Signature not yet current: <date> is still later than ...". A bad key or canonical request reads
// differently ("The request signature we calculated does not match ..."), and that is for the operator.
bool AboutTime(std::string_view message) {
  return ContainsNoCase(message, "signature expired") ||
         ContainsNoCase(message, "signature not yet current") || ContainsNoCase(message, "time");
}

}  // namespace

ErrorClass ClassifyError(std::string_view code, int http_status, std::string_view message) {
  code = BareCode(code);
  if (http_status == 0) http_status = StatusInCode(code);
  // 413: the request is larger than the endpoint takes, whatever it calls the error; resending it as it
  // is cannot help.
  if (http_status == 413) return kPermanent;
  if (code == "InvalidSignatureException" || code == "SignatureDoesNotMatch") {
    return AboutTime(message) ? kSkew : kOperator;
  }
  for (const auto& [known, error_class] : kCodes) {
    if (code == known) return error_class;
  }
  // Refused for who we are, without an AWS error type: a proxy, gateway or firewall in the way. Retrying
  // fast only floods it and the log.
  if ((http_status == 401 || http_status == 403) && StatusInCode(code) != 0) return kOperator;
  // Unknown codes, "HTTP 5xx", "HTTP 429" and any other status without a known type: retrying costs
  // only time, where dead-lettering a record the endpoint would have taken later loses it.
  return kTransient;
}

std::string_view ErrorClassName(ErrorClass error_class) {
  switch (error_class) {
    case kTransient:
      return "transient";
    case kOperator:
      return "operator";
    case kPermanent:
      return "permanent";
    case kSkew:
      return "clock skew";
    case kCredentials:
      return "credentials";
  }
  return "unknown";
}

}  // namespace ferry
