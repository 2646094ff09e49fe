// Tests of the status socket's request line (agent/ops/status_request.h).
#include "agent/ops/status_request.h"

#include <string>

#include <catch2/catch.hpp>

namespace ferry {
namespace {

StatusRequestKind Kind(std::string_view received, bool at_eof = false) {
  return ParseStatusRequest(received, at_eof).kind;
}

TEST_CASE("a status request line is a word and a newline", "[status_request]") {
  CHECK(Kind("status\n") == StatusRequestKind::kStatus);
  CHECK(Kind("reload\n") == StatusRequestKind::kReload);
  CHECK(Kind("reload\r\n") == StatusRequestKind::kReload);
  // What follows the line is not the request's business.
  CHECK(Kind("reload\nstatus\n") == StatusRequestKind::kReload);
  // An empty line asks for what no request asks for: the status.
  CHECK(Kind("\n") == StatusRequestKind::kStatus);
}

TEST_CASE("a status request line without its newline waits for more, or ends at EOF", "[status_request]") {
  CHECK(Kind("") == StatusRequestKind::kIncomplete);
  CHECK(Kind("relo") == StatusRequestKind::kIncomplete);
  CHECK(Kind("reload") == StatusRequestKind::kIncomplete);
  // EOF: what was sent is the whole line; nothing at all asks for the status, as older clients do.
  CHECK(Kind("", true) == StatusRequestKind::kStatus);
  CHECK(Kind("reload", true) == StatusRequestKind::kReload);
  CHECK(Kind("status", true) == StatusRequestKind::kStatus);
}

TEST_CASE("an unknown or oversized status request is refused with a reason", "[status_request]") {
  auto unknown = ParseStatusRequest("restart\n", false);
  CHECK(unknown.kind == StatusRequestKind::kInvalid);
  CHECK(unknown.error == "unknown request 'restart' (known: status, reload)");
  CHECK(Kind("RELOAD\n") == StatusRequestKind::kInvalid);
  CHECK(Kind(" reload\n") == StatusRequestKind::kInvalid);
  CHECK(Kind("relo", true) == StatusRequestKind::kInvalid);

  // A line as long as the bound allows, newline included, is read; one byte more is refused without
  // waiting for its end.
  const std::string longest(kMaxStatusRequestBytes - 1, 'x');
  CHECK(Kind(longest) == StatusRequestKind::kIncomplete);
  CHECK(Kind(longest + "\n") == StatusRequestKind::kInvalid);  // unknown, but within the bound
  CHECK(ParseStatusRequest(longest + "\n", false).error.starts_with("unknown request"));
  auto oversized = ParseStatusRequest(std::string(kMaxStatusRequestBytes, 'x'), false);
  CHECK(oversized.kind == StatusRequestKind::kInvalid);
  CHECK(oversized.error == "request line longer than 63 bytes");
  CHECK(ParseStatusRequest(std::string(kMaxStatusRequestBytes, 'x') + "\n", false).error ==
        "request line longer than 63 bytes");

  // What the reason quotes is escaped and short: it goes to a log.
  auto control = ParseStatusRequest("a\x1b[2Jb\n", false);
  CHECK(control.kind == StatusRequestKind::kInvalid);
  CHECK(control.error.find('\x1b') == std::string::npos);
  auto quoted = ParseStatusRequest(std::string(50, 'y') + "\n", false);
  CHECK(quoted.error == "unknown request '" + std::string(32, 'y') + "' (known: status, reload)");
}

}  // namespace
}  // namespace ferry
