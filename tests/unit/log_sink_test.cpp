// Tests of EscapingSink and MakeLogger (agent/ops/log_sink): one log call is one line, whatever its values
// hold, in ferry's pattern; plain messages reach the sink as they are.
#include "agent/ops/log_sink.h"

#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace ferry {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_CASE("EscapingSink: a value with line breaks and escapes stays on its message's line", "[log]") {
  std::ostringstream captured;
  auto log = MakeLogger(std::make_shared<spdlog::sinks::ostream_sink_st>(captured), "info");
  const std::string path = "/var/log/evil\n2030-01-01T00:00:00.000+00:00 error forged line\x1b[31m.log";
  log->warn("file {}: cannot open it", path);
  log->info("ferry started: {} flow(s), state in {}", 2, "/var/lib/ferry");
  log->debug("below the level: {}", "not written");

  const auto lines = Lines(captured.str());
  REQUIRE(lines.size() == 2);
  const std::regex prefix(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (warning|info) )");
  for (const auto& line : lines) CHECK(std::regex_search(line, prefix));
  CHECK(
      lines[0].ends_with("warning file /var/log/evil\\n2030-01-01T00:00:00.000+00:00 error forged "
                         "line\\x1b[31m.log: cannot open it"));
  CHECK(lines[1].ends_with("info ferry started: 2 flow(s), state in /var/lib/ferry"));
}

TEST_CASE("EscapingSink: an endpoint's multi-line, non-UTF-8 error is one line", "[log]") {
  std::ostringstream captured;
  auto log = MakeLogger(std::make_shared<spdlog::sinks::ostream_sink_st>(captured), "warn");
  std::string body;
  for (int i = 0; i < 20; ++i) body += "<p>line " + std::to_string(i) + " of the proxy's page\xff</p>\r\n";
  log->error("request failed (HTTP 403: body \"{}\")", body);
  const auto lines = Lines(captured.str());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("line 19 of the proxy's page\\xff</p>\\r\\n") != std::string::npos);
}

}  // namespace
}  // namespace ferry
