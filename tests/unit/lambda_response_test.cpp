// Tests of the lambda plugin's response parser (plugins/lambda/lambda_response): each outcome of the
// contract: Ok with its data decoded and one trailing newline (LF or CRLF) taken off, Dropped,
// ProcessingFailed with and without the record's errorMessage, Ok without data or with data that is not
// base64, a result that is not one of the three, a record the answer does not name, unknown and repeated
// ids counted and ignored, records matched by id whatever their order; and the answers that fail the whole
// invocation: not JSON, trailing bytes, not an object, no records array, Lambda's error shape.
#include "plugins/lambda/lambda_response.h"

#include <catch2/catch.hpp>

#include <string>

namespace ferry::plugins {
namespace {

// "aGVsbG8=" is "hello".
TEST_CASE("lambda response: Ok, Dropped and ProcessingFailed, matched by id in any order", "[lambda]") {
  auto r =
      ParseLambdaResponse(R"({"records":[{"recordId":"2","result":"ProcessingFailed"},)"
                          R"({"recordId":"0","result":"Ok","data":"aGVsbG8K"},)"
                          R"({"recordId":"1","result":"Dropped","data":"aWdub3JlZA=="},)"
                          R"({"recordId":"3","result":"ProcessingFailed","errorMessage":"no timestamp"},)"
                          R"({"recordId":"4","result":"Ok","data":"aGVsbG8NCg=="},)"
                          R"({"recordId":"5","result":"Ok","data":"aGVsbG8KCg=="},)"
                          R"({"recordId":"6","result":"Ok","data":""}]})",
                          7);
  REQUIRE(r.ok());
  REQUIRE(r->records.size() == 7);
  CHECK(r->records[0].result == LambdaResult::kOk);
  CHECK(r->bytes(0) == "hello");  // one "\n" off
  CHECK(r->records[1].result == LambdaResult::kDropped);
  CHECK(r->records[2].result == LambdaResult::kFailed);
  CHECK(r->records[2].reason == "Lambda.ProcessingFailedStatus: the function returned ProcessingFailed");
  CHECK(r->records[3].reason ==
        "Lambda.ProcessingFailedStatus: the function returned ProcessingFailed: no timestamp");
  CHECK(r->bytes(4) == "hello");    // "\r\n" off
  CHECK(r->bytes(5) == "hello\n");  // only one newline
  CHECK(r->records[6].result == LambdaResult::kOk);
  CHECK(r->bytes(6).empty());
  CHECK(r->unknown_ids == 0);
  CHECK(r->repeated_ids == 0);
}

TEST_CASE("lambda response: invalid output fails the record, not the answer", "[lambda]") {
  auto r = ParseLambdaResponse(R"({"records":[{"recordId":"0","result":"Ok"},)"
                               R"({"recordId":"1","result":"Ok","data":"not base64!"},)"
                               R"({"recordId":"2","result":"Maybe","data":"aGVsbG8="},)"
                               R"({"recordId":"3","data":"aGVsbG8="},)"
                               R"({"recordId":"4","result":1},)"
                               R"({"recordId":"5","result":"Ok","data":7},)"
                               R"({"recordId":"6","result":"ok","data":"aGVsbG8="}]})",
                               8);
  REQUIRE(r.ok());
  const char* reasons[] = {"Lambda.InvalidOutput: result Ok without data",
                           "Lambda.InvalidOutput: data is not base64",
                           "Lambda.InvalidOutput: result 'Maybe'",
                           "Lambda.InvalidOutput: no result",
                           "Lambda.InvalidOutput: result is not a string",
                           "Lambda.InvalidOutput: result Ok without data",
                           "Lambda.InvalidOutput: result 'ok'",
                           "Lambda.MissingRecordId: the answer has no record 7"};
  for (std::size_t i = 0; i < 8; ++i) {
    INFO(i);
    CHECK(r->records[i].result == LambdaResult::kFailed);
    CHECK(r->records[i].reason == reasons[i]);
  }
}

TEST_CASE("lambda response: unknown and repeated ids are counted and ignored", "[lambda]") {
  auto r = ParseLambdaResponse(R"({"records":[{"recordId":"0","result":"Ok","data":"YQ=="},)"
                               R"({"recordId":"0","result":"Dropped"},)"
                               R"({"recordId":"1","result":"Ok","data":"Yg=="},)"
                               R"({"recordId":"3","result":"Ok","data":"Yw=="},)"
                               R"({"recordId":"01","result":"Ok","data":"Yw=="},)"
                               R"({"recordId":"+1","result":"Ok","data":"Yw=="},)"
                               R"({"recordId":"x","result":"Ok","data":"Yw=="},)"
                               R"({"recordId":"99999999999999999999","result":"Ok","data":"Yw=="},)"
                               R"({"recordId":1,"result":"Ok","data":"Yw=="},)"
                               R"({"result":"Ok","data":"Yw=="},)"
                               R"("not an object",)"
                               R"({"recordId":"1","result":"ProcessingFailed"}],"extra":true})",
                               3);
  REQUIRE(r.ok());
  CHECK(r->bytes(0) == "a");
  CHECK(r->bytes(1) == "b");
  CHECK(r->records[2].reason == "Lambda.MissingRecordId: the answer has no record 2");
  CHECK(r->unknown_ids == 8);
  CHECK(r->repeated_ids == 2);
}

TEST_CASE("lambda response: an empty request takes an empty answer", "[lambda]") {
  auto r = ParseLambdaResponse(R"({"records":[]})", 0);
  REQUIRE(r.ok());
  CHECK(r->records.empty());
}

TEST_CASE("lambda response: answers that fail the whole invocation", "[lambda]") {
  auto message = [](std::string_view line) {
    auto r = ParseLambdaResponse(line, 2);
    REQUIRE_FALSE(r.ok());
    return r.error().message();
  };
  CHECK_THAT(message("this is not json"),
             Catch::StartsWith("Lambda.InvalidResponse: the answer is not JSON ("));
  CHECK_THAT(message(""), Catch::StartsWith("Lambda.InvalidResponse: the answer is not JSON ("));
  CHECK_THAT(message(R"({"records":[]} trailing)"),
             Catch::StartsWith("Lambda.InvalidResponse: the answer is not JSON"));
  CHECK_THAT(message(std::string_view("{\"records\":[]}\0", 15)),
             Catch::StartsWith("Lambda.InvalidResponse: the answer is not JSON"));
  CHECK(message(R"([{"recordId":"0"}])") == "Lambda.InvalidResponse: the answer is not a JSON object");
  CHECK(message(R"({"records":{}})") == "Lambda.InvalidResponse: the answer has no records array");
  CHECK(message(R"({})") == "Lambda.InvalidResponse: the answer has no records array");
  CHECK(message(R"({"errorType":"ValueError","errorMessage":"boom","stackTrace":["a"]})") ==
        "Lambda.FunctionError: ValueError: boom");
  CHECK(message(R"({"errorMessage":"2026-12-05 Task timed out after 3.00 seconds"})") ==
        "Lambda.FunctionError: : 2026-12-05 Task timed out after 3.00 seconds");
  CHECK(message(R"({"errorType":"E","errorMessage":")" + std::string(200, 'x') + "\"}") ==
        "Lambda.FunctionError: E: " + std::string(80, 'x') + "...");
  // Deep nesting is an error value, not a crash.
  CHECK_THAT(message(std::string(100000, '[')),
             Catch::StartsWith("Lambda.InvalidResponse: the answer is not JSON"));
}

}  // namespace
}  // namespace ferry::plugins
