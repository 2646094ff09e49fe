// Tests of ClassifyError (agent/delivery/error_class): every documented Kinesis, Firehose and common AWS
// code lands in its class, with or without a namespace prefix or ":<url>" suffix; signature errors are
// clock skew only when their message is about time; 413 is permanent whatever the code; an untrusted TLS
// certificate and a bare 401 or 403 are the operator's; unknown codes and other bare "HTTP <status>" codes
// are transient.
#include "agent/delivery/error_class.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

namespace ferry {
namespace {

using enum ErrorClass;

TEST_CASE("ClassifyError: throttling, service failures and no answer are transient", "[delivery]") {
  for (std::string_view code :
       {"ProvisionedThroughputExceededException", "InternalFailure", "InternalFailureException",
        "ServiceUnavailable", "ServiceUnavailableException", "ThrottlingException", "Throttling",
        "LimitExceededException", "KMSThrottlingException", "RequestTimeout", "RequestTimeoutException",
        "TooManyRequestsException", "RequestAbortedException", "transport", "InvalidResponse"}) {
    INFO(code);
    CHECK(ClassifyError(code, 0) == kTransient);
    CHECK(ClassifyError(code, 400) == kTransient);
  }
  CHECK(ClassifyError("ServiceUnavailableException", 503) == kTransient);
  CHECK(ClassifyError("InternalFailure", 500) == kTransient);
}

TEST_CASE("ClassifyError: missing streams, denied access and KMS trouble are for the operator",
          "[delivery]") {
  for (std::string_view code : {"ResourceNotFoundException",
                                "ResourceInUseException",
                                "AccessDeniedException",
                                "AccessDenied",
                                "KMSAccessDeniedException",
                                "KMSDisabledException",
                                "KMSInvalidStateException",
                                "KMSNotFoundException",
                                "KMSOptInRequired",
                                "UnrecognizedClientException",
                                "InvalidClientTokenId",
                                "MissingAuthenticationToken",
                                "IncompleteSignature",
                                "NotAuthorized",
                                "OptInRequired",
                                "InvalidKMSResourceException",
                                "InvalidSourceException",
                                "InvalidAction",
                                "MissingAction",
                                "UnknownOperationException"}) {
    INFO(code);
    CHECK(ClassifyError(code, 400) == kOperator);
    CHECK(ClassifyError(code, 0) == kOperator);
  }
  CHECK(ClassifyError("InvalidClientTokenId", 403) == kOperator);
}

TEST_CASE("ClassifyError: requests the endpoint will never take are permanent", "[delivery]") {
  for (std::string_view code :
       {"ValidationException", "ValidationError", "InvalidArgumentException", "SerializationException",
        "InvalidParameterValue", "InvalidParameterCombination", "MissingParameter",
        "RequestEntityTooLargeException", "MalformedHttpRequestException"}) {
    INFO(code);
    CHECK(ClassifyError(code, 400) == kPermanent);
    CHECK(ClassifyError(code, 0) == kPermanent);
  }
}

TEST_CASE("ClassifyError: HTTP 413 is permanent whatever the code says", "[delivery]") {
  CHECK(ClassifyError("HTTP 413", 413) == kPermanent);
  CHECK(ClassifyError("HTTP 413", 0) == kPermanent);  // the status read from the code
  CHECK(ClassifyError("ServiceUnavailableException", 413) == kPermanent);
  CHECK(ClassifyError("SomethingNew", 413) == kPermanent);
  CHECK(ClassifyError("", 413) == kPermanent);
}

TEST_CASE("ClassifyError: expired tokens call for fresh credentials", "[delivery]") {
  for (std::string_view code : {"ExpiredTokenException", "ExpiredToken", "TokenRefreshRequired"}) {
    INFO(code);
    CHECK(ClassifyError(code, 403) == kCredentials);
    CHECK(ClassifyError(code, 400) == kCredentials);
  }
}

TEST_CASE("ClassifyError: a signature rejected for the time is clock skew, any other is for the operator",
          "[delivery]") {
  constexpr std::string_view kExpired =
      "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T001000Z - 5 min.)";
  constexpr std::string_view kNotYet =
      "Signature not yet current: 20260101T002000Z is still later than 20260101T001500Z (20260101T001000Z + "
      "5 "
      "min.)";
  constexpr std::string_view kMismatch =
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
      "Access Key and signing method.";
  for (std::string_view code : {"InvalidSignatureException", "SignatureDoesNotMatch"}) {
    INFO(code);
    CHECK(ClassifyError(code, 400, kExpired) == kSkew);
    CHECK(ClassifyError(code, 400, kNotYet) == kSkew);
    CHECK(ClassifyError(code, 403, "SIGNATURE EXPIRED: ...") == kSkew);
    CHECK(ClassifyError(code, 403, "Request TIME is too far from the server's") == kSkew);
    CHECK(ClassifyError(code, 403, kMismatch) == kOperator);
    CHECK(ClassifyError(code, 403) == kOperator);
  }
  CHECK(ClassifyError("RequestTimeTooSkewed", 403) == kSkew);
  CHECK(ClassifyError("RequestExpired", 400) == kSkew);
  CHECK(ClassifyError("RequestExpired", 400, "anything") == kSkew);
}

TEST_CASE("ClassifyError: namespace prefixes and URL suffixes are stripped", "[delivery]") {
  CHECK(ClassifyError("com.amazonaws.kinesis.v20131202#ResourceNotFoundException", 400) == kOperator);
  CHECK(ClassifyError("com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException", 400) ==
        kTransient);
  CHECK(ClassifyError("com.amazon.coral.validate#ValidationException", 400) == kPermanent);
  CHECK(ClassifyError("com.amazon.coral.service#ExpiredTokenException", 400) == kCredentials);
  CHECK(ClassifyError("com.amazon.coral.service#UnrecognizedClientException", 400) == kOperator);
  CHECK(ClassifyError("ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/",
                      400) == kPermanent);
  CHECK(ClassifyError("aws.protocoltests#InvalidArgumentException:http://example.com/#frag", 400) ==
        kPermanent);
  CHECK(ClassifyError("com.amazon.coral.service#InvalidSignatureException", 400,
                      "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z") == kSkew);
}

TEST_CASE("ClassifyError: unknown codes and bare statuses are transient", "[delivery]") {
  CHECK(ClassifyError("HTTP 500", 500) == kTransient);
  CHECK(ClassifyError("HTTP 503", 503) == kTransient);
  CHECK(ClassifyError("HTTP 503", 0) == kTransient);
  CHECK(ClassifyError("HTTP 429", 429) == kTransient);
  CHECK(ClassifyError("SomethingNewException", 500) == kTransient);
  CHECK(ClassifyError("SomethingNewException", 429) == kTransient);
  // An unknown 4xx may be a proxy or a new code; retrying never loses records.
  CHECK(ClassifyError("HTTP 400", 400) == kTransient);
  CHECK(ClassifyError("HTTP 404", 404) == kTransient);
  CHECK(ClassifyError("SomethingNewException", 400) == kTransient);
  CHECK(ClassifyError("", 0) == kTransient);
  CHECK(ClassifyError("HTTP 4130", 0) == kTransient);  // not 413
  // Codes are exact: AWS spells them one way, so a look-alike is unknown.
  CHECK(ClassifyError("validationexception", 400) == kTransient);
}

TEST_CASE("ClassifyError: an untrusted certificate and a bare 401 or 403 are for the operator",
          "[delivery]") {
  // Only someone changing aws.ca_file, the endpoint or its certificate fixes these: slow retries, loud log.
  CHECK(ClassifyError(kUntrustedCertificate, 0) == kOperator);
  CHECK(ClassifyError("UntrustedCertificate", 0) == kOperator);
  // No AWS error type: a proxy, gateway or firewall in front of the endpoint refuses us.
  CHECK(ClassifyError("HTTP 403", 403) == kOperator);
  CHECK(ClassifyError("HTTP 401", 401) == kOperator);
  CHECK(ClassifyError("HTTP 403", 0) == kOperator);
  // With a type, the type decides (an unknown one stays transient).
  CHECK(ClassifyError("ExpiredTokenException", 403) == kCredentials);
  CHECK(ClassifyError("SomethingNewException", 403) == kTransient);
}

TEST_CASE("ClassifyError: an answer too large and a request that could not be built are transient",
          "[delivery]") {
  CHECK(ClassifyError(kResponseTooLarge, 0) == kTransient);
  CHECK(ClassifyError(kEncodingFailed, 0) == kTransient);
}

TEST_CASE("ErrorClassName names each class", "[delivery]") {
  CHECK(ErrorClassName(kTransient) == "transient");
  CHECK(ErrorClassName(kOperator) == "operator");
  CHECK(ErrorClassName(kPermanent) == "permanent");
  CHECK(ErrorClassName(kSkew) == "clock skew");
  CHECK(ErrorClassName(kCredentials) == "credentials");
}

}  // namespace
}  // namespace ferry
