// Tests of JsonLogSink (agent/ops/json_log_sink): every message is one JSON object on one line, which a
// JSON parser reads back to the time, level, flow, file and message; strings stay valid JSON whatever the
// bytes (controls, quotes, invalid UTF-8 in a file name).
#include "agent/ops/json_log_sink.h"

#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "agent/core/log_fields.h"
#include "agent/ops/log_sink.h"

namespace ferry {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The line parsed strictly (rapidjson validates UTF-8 when asked).
rapidjson::Document Parsed(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

std::string Get(const rapidjson::Document& doc, const char* key) {
  if (!doc.HasMember(key)) return "<absent>";
  return std::string(doc[key].GetString(), doc[key].GetStringLength());
}

TEST_CASE("JSON log: one object per line with time, level, flow, file and message", "[log][json]") {
  std::ostringstream captured;
  auto log = MakeLogger(std::make_shared<spdlog::sinks::ostream_sink_st>(captured), "info", "json");
  log->warn("flow {}: {}: cannot open it: {}", "web", LogFile{"/var/log/a.log"}, "Permission denied");
  log->info("ferry started: {} flow(s)", 2);
  log->error("flow {}: lambda: {} records failed", "api: v2", 3);
  log->debug("below the level");
  const auto lines = Lines(captured.str());
  REQUIRE(lines.size() == 3);

  auto first = Parsed(lines[0]);
  CHECK(std::regex_match(Get(first, "time"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  CHECK(Get(first, "level") == "warn");
  CHECK(Get(first, "flow") == "web");
  CHECK(Get(first, "file") == "/var/log/a.log");
  CHECK(Get(first, "message") == "flow web: /var/log/a.log: cannot open it: Permission denied");

  auto second = Parsed(lines[1]);
  CHECK(Get(second, "level") == "info");
  CHECK(Get(second, "flow") == "<absent>");
  CHECK(Get(second, "file") == "<absent>");
  CHECK(Get(second, "message") == "ferry started: 2 flow(s)");

  auto third = Parsed(lines[2]);
  CHECK(Get(third, "level") == "error");
  CHECK(Get(third, "flow") == "api");  // a name with ": " reads short (documented)
}

TEST_CASE("JSON log: any bytes give valid JSON on one line", "[log][json]") {
  std::ostringstream captured;
  auto log = MakeLogger(std::make_shared<spdlog::sinks::ostream_sink_st>(captured), "info", "json");
  const std::string path = std::string("/var/log/\"q\"\\\n\x01\xff\xc3(\xe2\x80\xa8-caf\xc3\xa9.log");
  log->warn("flow {}: {}: gone; body \"{}\"", "w\tx", LogFile{path}, std::string("a\0b\x7f", 4));
  const auto lines = Lines(captured.str());
  REQUIRE(lines.size() == 1);
  auto doc = Parsed(lines[0]);
  // Field values: the bytes themselves where they are UTF-8, U+FFFD where they are not.
  CHECK(Get(doc, "file") == "/var/log/\"q\"\\\n\x01\xef\xbf\xbd\xef\xbf\xbd(\xe2\x80\xa8-caf\xc3\xa9.log");
  CHECK(Get(doc, "flow") == "w\tx");
  // The message as the text log shows it: escaped to one printable line.
  CHECK(Get(doc, "message") ==
        "flow w\\tx: /var/log/\"q\"\\\\\\n\\x01\\xff\\xc3(\\u2028-caf\xc3\xa9.log: gone; body "
        "\"a\\x00b\\x7f\"");
  // No raw control byte or U+2028 in the line itself.
  for (char c : lines[0]) CHECK(static_cast<unsigned char>(c) >= 0x20);
  CHECK(lines[0].find("\xe2\x80\xa8") == std::string::npos);
}

TEST_CASE("JsonEscape: quotes, backslashes, controls and invalid UTF-8", "[log][json]") {
  CHECK(JsonEscape("plain") == "plain");
  CHECK(JsonEscape("a\"b\\c") == "a\\\"b\\\\c");
  CHECK(JsonEscape("\n\r\t\x01\x1f\x7f") == "\\n\\r\\t\\u0001\\u001f\\u007f");
  CHECK(JsonEscape(std::string("\0", 1)) == "\\u0000");
  CHECK(JsonEscape("caf\xc3\xa9 \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xf0\x9f\x98\x80");
  // A stray byte, an overlong form, a surrogate: one U+FFFD per byte.
  CHECK(JsonEscape("\xff\xc0\xaf\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd");
  CHECK(JsonEscape("\xe2\x82") == "\\ufffd\\ufffd");  // cut sequence
  CHECK(JsonEscape("\xe2\x80\xa8\xe2\x80\xa9") == "\\u2028\\u2029");
}

TEST_CASE("JSON log: the time is RFC 3339 UTC with milliseconds", "[log][json]") {
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'796'479'572'123));
  CHECK(JsonLogLine(t, spdlog::level::info, "x") ==
        R"({"time":"2026-12-05T14:06:12.123Z","level":"info","message":"x"})");
}

TEST_CASE("Text log: field marks leave the message as it always read", "[log]") {
  std::ostringstream captured;
  auto log = MakeLogger(std::make_shared<spdlog::sinks::ostream_sink_st>(captured), "info");
  log->warn("flow {}: {}: cannot open it", "web", LogFile{"/var/log/new\nline.log"});
  const auto lines = Lines(captured.str());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].ends_with(" warning flow web: /var/log/new\\nline.log: cannot open it"));
}

}  // namespace
}  // namespace ferry
