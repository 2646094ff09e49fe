// Tests of ferry.yaml parsing (agent/config/config, agent/config/schema): every field, defaults, and errors
// that say "file:line:col: key.path: message", all at once.
#include "agent/config/config.h"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/scratch_dir.h"
#include "tests/unit/without_file_capabilities.h"

namespace ferry::config {
namespace {

// The error lines of a config that must not parse.
std::vector<std::string> Errors(const std::string& yaml) {
  auto r = ParseConfig(yaml, "ferry.yaml");
  if (r.ok()) {
    FAIL_CHECK("config parsed but should not have:\n" << yaml);
    return {};
  }
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  std::vector<std::string> lines;
  std::string text = r.error().message();
  std::size_t at = 0;
  while (true) {
    std::size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl - at));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return lines;
}

std::string OneError(const std::string& yaml) {
  auto lines = Errors(yaml);
  REQUIRE(lines.size() == 1);
  return lines[0];
}

Config Parse(const std::string& yaml) {
  auto r = ParseConfig(yaml, "ferry.yaml");
  if (!r.ok()) FAIL("unexpected error: " << r.error().message());
  return std::move(r.value());
}

// A valid flow, for tests about something else.
const char* const kFlow =
    "flows:\n"
    "  - name: web\n"
    "    files: /var/log/web.log\n"
    "    kinesis: {stream: web-logs}\n";

const char* const kFullConfig =
    "state_dir: /srv/ferry\n"
    "log_level: debug\n"
    "shutdown_timeout: 30s\n"
    "memory_limit: 64MiB\n"
    "aws:\n"
    "  region: eu-west-1\n"
    "  access_key_id: AKIAIOSFODNN7EXAMPLE\n"
    "  secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    "  session_token: FwoGZXIvYXdzEXAMPLESESSIONTOKEN\n"
    "  kinesis_endpoint: http://127.0.0.1:4567\n"
    "flows:\n"
    "  - name: web\n"
    "    files: [\"/var/log/nginx/*.log\", \"/var/log/app[0-9].log\"]\n"
    "    start_at: beginning\n"
    "    max_record_bytes: 256KiB\n"
    "    kinesis:\n"
    "      stream: web-logs\n"
    "      max_age: 500ms\n"
    "  - name: sys\n"
    "    files:\n"
    "      - /var/log/syslog\n"
    "      - \"/var/log/*.log\"\n"
    "    start_at: end\n"
    "    max_record_bytes: 1MiB\n"
    "    kinesis:\n"
    "      stream: sys-logs\n"
    "      max_age: 2m\n";

// ---- valid configs

TEST_CASE("A full config sets every field", "[config]") {
  Config c = Parse(kFullConfig);
  CHECK(c.file == "ferry.yaml");
  CHECK(c.state_dir == "/srv/ferry");
  CHECK(c.log_level == "debug");
  CHECK(c.shutdown_timeout == Duration(30000));
  CHECK(c.memory_limit == 64ULL << 20);
  CHECK(c.aws.region == "eu-west-1");
  CHECK(c.aws.access_key_id == "AKIAIOSFODNN7EXAMPLE");
  CHECK(c.aws.secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  CHECK(c.aws.session_token == "FwoGZXIvYXdzEXAMPLESESSIONTOKEN");
  CHECK(c.aws.kinesis_endpoint == "http://127.0.0.1:4567");
  REQUIRE(c.flows.size() == 2);

  const FlowOptions& web = c.flows[0];
  CHECK(web.name == "web");
  CHECK(web.files == std::vector<std::string>{"/var/log/nginx/*.log", "/var/log/app[0-9].log"});
  CHECK(web.start_at == StartAt::kBeginning);
  CHECK(web.max_record_bytes == 256 * 1024);
  REQUIRE(web.kinesis.has_value());
  CHECK(web.kinesis->stream == "web-logs");
  CHECK(web.kinesis->max_age == Duration(500));

  const FlowOptions& sys = c.flows[1];
  CHECK(sys.name == "sys");
  CHECK(sys.files == std::vector<std::string>{"/var/log/syslog", "/var/log/*.log"});
  CHECK(sys.start_at == StartAt::kEnd);
  CHECK(sys.max_record_bytes == 1 << 20);
  REQUIRE(sys.kinesis.has_value());
  CHECK(sys.kinesis->stream == "sys-logs");
  CHECK(sys.kinesis->max_age == Duration(120000));
}

TEST_CASE("A minimal config gets the defaults", "[config]") {
  Config c = Parse(kFlow);
  CHECK(c.state_dir == "/var/lib/ferry");
  CHECK(c.log_level == "info");
  CHECK(c.shutdown_timeout == Duration(10000));
  CHECK(c.memory_limit == 4ULL << 20);
  CHECK(c.aws.region.empty());
  CHECK(c.aws.access_key_id.empty());
  CHECK(c.aws.secret_access_key.empty());
  CHECK(c.aws.session_token.empty());
  CHECK(c.aws.kinesis_endpoint.empty());
  REQUIRE(c.flows.size() == 1);
  CHECK(c.flows[0].name == "web");
  CHECK(c.flows[0].files == std::vector<std::string>{"/var/log/web.log"});  // one glob is a list of one
  CHECK(c.flows[0].start_at == StartAt::kEnd);
  CHECK(c.flows[0].max_record_bytes == 1 << 20);
  REQUIRE(c.flows[0].kinesis.has_value());
  CHECK(c.flows[0].kinesis->stream == "web-logs");
  CHECK(c.flows[0].kinesis->max_age == Duration(1000));
}

TEST_CASE("max_record_bytes accepts 1B to 10MiB", "[config]") {
  for (const char* size : {"1B", "1", "1MiB", "1048576", "1024KiB", "10MiB"}) {
    INFO(size);
    std::string yaml = std::string(kFlow) + "    max_record_bytes: " + size + "\n";
    auto r = ParseConfig(yaml, "ferry.yaml");
    REQUIRE(r.ok());
  }
}

// ---- unknown keys

TEST_CASE("An unknown top-level key names its position and the known keys", "[config]") {
  CHECK(OneError(std::string(kFlow) + "bogus: 1\n") ==
        "ferry.yaml:5:1: bogus: unknown key (known keys here: state_dir, log_level, log_format, "
        "shutdown_timeout, checkpoint_interval, memory_limit, spool, retry, aws, metrics, flows)");
}

TEST_CASE("An unknown key in aws is reported under aws", "[config]") {
  CHECK(OneError("aws:\n"
                 "  region: eu-west-1\n"
                 "  regoin: eu-west-2\n" +
                 std::string(kFlow)) ==
        "ferry.yaml:3:3: aws.regoin: unknown key (known keys here: region, access_key_id, secret_access_key, "
        "session_token, profile, role_arn, external_id, role_session_name, use_fips, imds_v1_fallback, "
        "kinesis_endpoint, firehose_endpoint, sts_endpoint, ca_file, proxy, no_proxy, connect_timeout, "
        "request_timeout)");
}

TEST_CASE("An unknown key in a second flow's kinesis section has the full path", "[config]") {
  CHECK(OneError("flows:\n"
                 "  - name: a\n"
                 "    files: /a.log\n"
                 "    kinesis:\n"
                 "      stream: s\n"
                 "  - name: b\n"
                 "    files: /b.log\n"
                 "    kinesis:\n"
                 "      stream: s\n"
                 "      max_agee: 1s\n") ==
        "ferry.yaml:10:7: flows[1].kinesis.max_agee: unknown key (known keys here: stream, max_age, "
        "partition_key, explicit_hash_key, aggregate, "
        "aggregate_max_bytes, aggregate_max_records, shard_map_refresh, protocol, compression, "
        "rate_limit, max_record_size, one_request_per_shard, record_newline)");
}

// ---- wrong types

TEST_CASE("A list where a string is expected", "[config]") {
  CHECK(OneError("state_dir: [a, b]\n" + std::string(kFlow)) ==
        "ferry.yaml:1:12: state_dir: expected a string, found a list");
  CHECK(OneError("aws:\n  region:\n    - eu-west-1\n" + std::string(kFlow)) ==
        "ferry.yaml:3:5: aws.region: expected a string, found a list");
}

TEST_CASE("A string where a mapping is expected", "[config]") {
  CHECK(OneError("aws: eu-west-1\n" + std::string(kFlow)) ==
        "ferry.yaml:1:6: aws: expected a mapping of keys to values");
  CHECK(OneError("flows:\n  - name: a\n    files: /a.log\n    kinesis: my-stream\n") ==
        "ferry.yaml:4:14: flows[0].kinesis: expected a mapping of keys to values");
  CHECK(OneError("flows:\n  - just-a-name\n") ==
        "ferry.yaml:2:5: flows[0]: expected a mapping of keys to values");
}

TEST_CASE("A mapping where a list of globs is expected", "[config]") {
  CHECK(OneError("flows:\n  - name: a\n    files: {a: b}\n    kinesis: {stream: s}\n") ==
        "ferry.yaml:3:12: flows[0].files: expected a list of strings, found a mapping");
  CHECK(OneError("flows:\n  - name: a\n    files: [a.log, [b.log]]\n    kinesis: {stream: s}\n") ==
        "ferry.yaml:3:20: flows[0].files[1]: expected a string, found a list");
}

TEST_CASE("flows must be a non-empty list", "[config]") {
  CHECK(OneError("flows:\n  name: a\n") == "ferry.yaml:2:3: flows: expected a non-empty list of flows");
  CHECK(OneError("flows: []\n") == "ferry.yaml:1:8: flows: expected a non-empty list of flows");
  CHECK(OneError("flows: web\n") == "ferry.yaml:1:8: flows: expected a non-empty list of flows");
}

// ---- missing keys

TEST_CASE("Missing required keys are reported at their mapping", "[config]") {
  CHECK(OneError("log_level: info\n") == "ferry.yaml:1:1: flows: missing required key");
  auto errors = Errors(
      "flows:\n"
      "  - files: /a.log\n"
      "    kinesis: {stream: s}\n"
      "  - name: b\n"
      "    kinesis: {stream: s}\n"
      "  - name: c\n"
      "    files: /c.log\n"
      "    kinesis: {max_age: 1s}\n");
  CHECK(errors == std::vector<std::string>{
                      "ferry.yaml:2:5: flows[0].name: missing required key",
                      "ferry.yaml:4:5: flows[1].files: missing required key",
                      "ferry.yaml:8:14: flows[2].kinesis.stream: missing required key",
                  });
}

TEST_CASE("A flow without a kinesis section has no destination", "[config]") {
  CHECK(OneError("flows:\n  - name: a\n    files: /a.log\n") ==
        "ferry.yaml:2:5: flows[0]: needs a destination: add a 'kinesis' or a 'firehose' section");
}

// ---- bad values

TEST_CASE("start_at must be end or beginning", "[config]") {
  CHECK(
      OneError("flows:\n  - name: a\n    files: /a.log\n    start_at: middle\n    kinesis: {stream: s}\n") ==
      "ferry.yaml:4:15: flows[0].start_at: 'middle' is not one of: end, beginning");
  CHECK(OneError("flows:\n  - name: a\n    files: /a.log\n    start_at: [end]\n    kinesis: {stream: s}\n") ==
        "ferry.yaml:4:15: flows[0].start_at: expected a string, found a list");
}

TEST_CASE("log_level must be a known level", "[config]") {
  CHECK(OneError("log_level: loud\n" + std::string(kFlow)) ==
        "ferry.yaml:1:12: log_level: 'loud' is not one of: trace, debug, info, warn, error");
}

TEST_CASE("log_format is text or json, text by default", "[config]") {
  CHECK(Parse(std::string(kFlow)).log_format == "text");
  CHECK(Parse("log_format: json\n" + std::string(kFlow)).log_format == "json");
  CHECK(OneError("log_format: xml\n" + std::string(kFlow)) ==
        "ferry.yaml:1:13: log_format: 'xml' is not one of: text, json");
}

TEST_CASE("Bad durations and sizes name the value and the units", "[config]") {
  auto errors = Errors(
      "shutdown_timeout: 10\n"
      "memory_limit: 32MB\n"
      "flows:\n"
      "  - name: a\n"
      "    files: /a.log\n"
      "    max_record_bytes: 11MiB\n"
      "    kinesis: {stream: s, max_age: soon}\n");
  CHECK(errors ==
        std::vector<std::string>{
            "ferry.yaml:1:19: shutdown_timeout: '10' is not a duration (a whole number with a unit: "
            "ms, s, m, h)",
            "ferry.yaml:2:15: memory_limit: '32MB' is not a size (a whole number with a unit: B, KiB, "
            "MiB, GiB)",
            "ferry.yaml:6:23: flows[0].max_record_bytes: must be between 1B and 10MiB",
            "ferry.yaml:7:35: flows[0].kinesis.max_age: 'soon' is not a duration (a whole number with a "
            "unit: ms, s, m, h)",
        });
  CHECK(OneError(std::string(kFlow) + "    max_record_bytes: 0\n") ==
        "ferry.yaml:5:23: flows[0].max_record_bytes: must be between 1B and 10MiB");
  CHECK(OneError(std::string(kFlow) + "    max_record_bytes: 10485761\n") ==
        "ferry.yaml:5:23: flows[0].max_record_bytes: must be between 1B and 10MiB");
  CHECK(
      OneError("shutdown_timeout: -1s\n" + std::string(kFlow)) ==
      "ferry.yaml:1:19: shutdown_timeout: '-1s' is not a duration (a whole number with a unit: ms, s, m, h)");
  CHECK(OneError("shutdown_timeout: 100000h\n" + std::string(kFlow)) ==
        "ferry.yaml:1:19: shutdown_timeout: '100000h' is longer than ten years");
}

TEST_CASE("Empty strings and empty globs are refused", "[config]") {
  auto errors = Errors(
      "flows:\n"
      "  - name: \"\"\n"
      "    files: []\n"
      "    kinesis: {stream: s}\n"
      "  - name: b\n"
      "    files: [\"\", /y.log]\n"
      "    kinesis: {stream: \"\"}\n");
  CHECK(errors == std::vector<std::string>{
                      "ferry.yaml:2:11: flows[0].name: must not be empty",
                      "ferry.yaml:3:12: flows[0].files: needs at least one glob",
                      "ferry.yaml:6:12: flows[1].files: include pattern \"\" is empty",
                      "ferry.yaml:7:23: flows[1].kinesis.stream: must not be empty",
                  });
}

// ---- duplicates and cross-field rules

TEST_CASE("A key given twice is an error at its second place", "[config]") {
  CHECK(OneError("log_level: info\nlog_level: debug\n" + std::string(kFlow)) ==
        "ferry.yaml:2:1: log_level: key given twice");
  CHECK(OneError("flows:\n  - name: a\n    files: /a.log\n    kinesis: {stream: s, stream: t}\n") ==
        "ferry.yaml:4:26: flows[0].kinesis.stream: key given twice");
}

TEST_CASE("Two flows with one name are an error", "[config]") {
  CHECK(OneError("flows:\n"
                 "  - name: a\n"
                 "    files: /x.log\n"
                 "    kinesis: {stream: s}\n"
                 "  - name: a\n"
                 "    files: /y.log\n"
                 "    kinesis: {stream: t}\n") ==
        "ferry.yaml:5:11: flows[1].name: flow name 'a' is used twice");
}

TEST_CASE("access_key_id and secret_access_key come together", "[config]") {
  CHECK(OneError("aws:\n  access_key_id: AKIDEXAMPLE\n" + std::string(kFlow)) ==
        "ferry.yaml:2:3: aws.secret_access_key: required when aws.access_key_id is set");
  CHECK(OneError("aws:\n  secret_access_key: shh\n" + std::string(kFlow)) ==
        "ferry.yaml:2:3: aws.access_key_id: required when aws.secret_access_key is set");
  CHECK(OneError("aws:\n  session_token: tok\n" + std::string(kFlow)) ==
        "ferry.yaml:2:3: aws.access_key_id: required when aws.session_token is set");
  // The session token alone is allowed to be missing.
  auto ok = ParseConfig("aws:\n  access_key_id: AKID\n  secret_access_key: shh\n" + std::string(kFlow), "f");
  CHECK(ok.ok());
}

// ---- documents that are not configs

TEST_CASE("An empty document is an error", "[config]") {
  CHECK(OneError("") == "ferry.yaml: (document): the config is empty");
  CHECK(OneError("# nothing but a comment\n\n") == "ferry.yaml: (document): the config is empty");
  CHECK(OneError("~\n") == "ferry.yaml: (document): the config is empty");
}

TEST_CASE("A YAML syntax error names its line", "[config]") {
  CHECK(OneError("flows:\n  - name: a\n    files: [a.log\n") ==
        "ferry.yaml:4:1: (document): end of sequence flow not found");
  CHECK(OneError("flows:\n  - name: a\n   files: /a.log\n") ==
        "ferry.yaml:3:4: (document): end of sequence not found");
}

TEST_CASE("Every error in a config is reported, one per line", "[config]") {
  auto errors = Errors(
      "log_level: loud\n"
      "bogus: 1\n"
      "aws:\n"
      "  region: [x]\n"
      "  access_key_id: AKIDEXAMPLE\n"
      "flows:\n"
      "  - name: a\n"
      "    files: {a: b}\n"
      "    kinesis: {stream: s}\n"
      "  - name: a\n"
      "    files: /b.log\n");
  CHECK(errors ==
        std::vector<std::string>{
            "ferry.yaml:1:12: log_level: 'loud' is not one of: trace, debug, info, warn, error",
            "ferry.yaml:2:1: bogus: unknown key (known keys here: state_dir, log_level, log_format, "
            "shutdown_timeout, checkpoint_interval, memory_limit, spool, retry, aws, metrics, flows)",
            "ferry.yaml:4:11: aws.region: expected a string, found a list",
            "ferry.yaml:8:12: flows[0].files: expected a list of strings, found a mapping",
            "ferry.yaml:10:11: flows[1].name: flow name 'a' is used twice",
            "ferry.yaml:10:5: flows[1]: needs a destination: add a 'kinesis' or a 'firehose' section",
            "ferry.yaml:4:3: aws.secret_access_key: required when aws.access_key_id is set",
        });
}

TEST_CASE("A section written with nothing in it is an empty section", "[config]") {
  Config c = Parse("aws:\n" + std::string(kFlow));
  CHECK(c.aws.region.empty());
  CHECK(c.aws.access_key_id.empty());
  CHECK(c.aws.kinesis_endpoint.empty());
  // An empty kinesis section still needs its stream.
  CHECK(Errors("flows:\n  - name: a\n    files: /a.log\n    kinesis:\n").size() == 1);
}

// A key written with no value is a null node, which yaml-cpp places where the next token starts; the error
// must still point at the key's own line, not at the next flow or past the end of the file.
TEST_CASE("A key with an empty value is reported on its own line", "[config]") {
  SECTION("an empty list of files") {
    std::string error = OneError("flows:\n  - name: a\n    files:\n    kinesis: {stream: s}\n");
    INFO(error);
    CHECK(error.rfind("ferry.yaml:3:", 0) == 0);
    CHECK(error.find(": flows[0].files: expected a list of strings, found nothing") != std::string::npos);
  }
  SECTION("an empty section at the end of the file") {
    std::string error = OneError("flows:\n  - name: a\n    files: /a.log\n    kinesis:\n\n# end\n");
    INFO(error);
    CHECK(error.rfind("ferry.yaml:4:", 0) == 0);
    CHECK(error.find(": flows[0].kinesis.stream: missing required key") != std::string::npos);
  }
  SECTION("an empty section before the next flow") {
    std::string error = OneError(
        "flows:\n"
        "  - name: a\n"
        "    files: /a.log\n"
        "    kinesis:\n"
        "  - name: b\n"
        "    files: /b.log\n"
        "    kinesis: {stream: s}\n");
    INFO(error);
    CHECK(error.rfind("ferry.yaml:4:", 0) == 0);
    CHECK(error.find(": flows[0].kinesis.stream: missing required key") != std::string::npos);
  }
}

TEST_CASE("A document that is not a mapping names the document", "[config]") {
  CHECK(OneError("- a\n- b\n") == "ferry.yaml:1:1: (document): expected a mapping of keys to values");
  CHECK(OneError("hello\n") == "ferry.yaml:1:1: (document): expected a mapping of keys to values");
}

// ---- DescribeConfig

TEST_CASE("DescribeConfig is YAML with the effective values", "[config]") {
  Config c = Parse(kFullConfig);
  std::string text = DescribeConfig(c);
  YAML::Node doc = YAML::Load(text);
  REQUIRE(doc.IsMap());
  CHECK(doc["state_dir"].as<std::string>() == "/srv/ferry");
  CHECK(doc["log_level"].as<std::string>() == "debug");
  CHECK(doc["shutdown_timeout"].as<std::string>() == "30s");
  CHECK(doc["memory_limit"].as<std::string>() == "64MiB");
  CHECK(doc["aws"]["region"].as<std::string>() == "eu-west-1");
  CHECK(doc["aws"]["kinesis_endpoint"].as<std::string>() == "http://127.0.0.1:4567");
  REQUIRE(doc["flows"].IsSequence());
  REQUIRE(doc["flows"].size() == 2);
  const YAML::Node web = doc["flows"][0];
  CHECK(web["name"].as<std::string>() == "web");
  CHECK(web["files"].as<std::vector<std::string>>() ==
        std::vector<std::string>{"/var/log/nginx/*.log", "/var/log/app[0-9].log"});
  CHECK(web["start_at"].as<std::string>() == "beginning");
  CHECK(web["max_record_bytes"].as<std::string>() == "256KiB");
  CHECK(web["kinesis"]["stream"].as<std::string>() == "web-logs");
  CHECK(web["kinesis"]["max_age"].as<std::string>() == "500ms");
  const YAML::Node sys = doc["flows"][1];
  CHECK(sys["files"].as<std::vector<std::string>>() ==
        std::vector<std::string>{"/var/log/syslog", "/var/log/*.log"});
  CHECK(sys["kinesis"]["max_age"].as<std::string>() == "2m");
}

TEST_CASE("DescribeConfig shows the defaults", "[config]") {
  std::string text = DescribeConfig(Parse(kFlow));
  YAML::Node doc = YAML::Load(text);
  REQUIRE(doc.IsMap());
  CHECK(doc["state_dir"].as<std::string>() == "/var/lib/ferry");
  CHECK(doc["log_level"].as<std::string>() == "info");
  CHECK(doc["shutdown_timeout"].as<std::string>() == "10s");
  CHECK(doc["memory_limit"].as<std::string>() == "4MiB");
  CHECK(doc["aws"].IsMap());
  CHECK(doc["aws"]["use_fips"].as<std::string>() == "false");
  CHECK(doc["aws"]["connect_timeout"].as<std::string>() == "10s");
  CHECK(doc["aws"]["request_timeout"].as<std::string>() == "30s");
  CHECK_FALSE(doc["aws"]["region"]);  // unset strings are not shown
  const YAML::Node flow = doc["flows"][0];
  CHECK(flow["start_at"].as<std::string>() == "end");
  CHECK(flow["max_record_bytes"].as<std::string>() == "1MiB");
  CHECK(flow["kinesis"]["max_age"].as<std::string>() == "1s");
}

TEST_CASE("DescribeConfig parses back into the same config", "[config]") {
  Config c = Parse(kFlow);
  auto again = ParseConfig(DescribeConfig(c), "described.yaml");
  REQUIRE(again.ok());
  CHECK(DescribeConfig(*again) == DescribeConfig(c));
  CHECK(again->flows[0].files == c.flows[0].files);
}

TEST_CASE("DescribeConfig hides secrets and all but 4 characters of the key id", "[config]") {
  Config c = Parse(kFullConfig);
  std::string text = DescribeConfig(c);
  CHECK(text.find("wJalrXUtnFEMI") == std::string::npos);
  CHECK(text.find("EXAMPLEKEY") == std::string::npos);
  CHECK(text.find("FwoGZXIvYXdz") == std::string::npos);
  CHECK(text.find("SESSIONTOKEN") == std::string::npos);
  CHECK(text.find("AKIAIOSFODNN7EXAMPLE") == std::string::npos);
  CHECK(text.find("AKIA") == std::string::npos);

  YAML::Node doc = YAML::Load(text);
  CHECK(doc["aws"]["access_key_id"].as<std::string>() == "****************MPLE");
  CHECK(doc["aws"]["secret_access_key"].as<std::string>() == "(set, hidden)");
  CHECK(doc["aws"]["session_token"].as<std::string>() == "(set, hidden)");

  // A key id of 4 characters or fewer is hidden entirely.
  c.aws.access_key_id = "AK12";
  std::string short_text = DescribeConfig(c);
  CHECK(short_text.find("AK12") == std::string::npos);
  CHECK(YAML::Load(short_text)["aws"]["access_key_id"].as<std::string>() == "****");
}

// ---- files

TEST_CASE("LoadConfigFile names a missing file", "[config]") {
  const std::string path = "/nonexistent-ferry-dir/ferry.yaml";
  auto r = LoadConfigFile(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kNotFound);
  CHECK(r.error().message() ==
        "/nonexistent-ferry-dir/ferry.yaml: cannot open config file: No such file or directory (ENOENT)");
}

TEST_CASE("LoadConfigFile says a folder is a folder, not an empty config", "[config]") {
  testing::ScratchDir dir("ferry-config");
  auto r = LoadConfigFile(dir.path());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == dir.path() + ": is a directory, not a config file");
}

TEST_CASE("LoadConfigFile gives the reason a file cannot be read", "[config]") {
  testing::ScratchDir dir("ferry-config");
  const std::string path = dir / "ferry.yaml";
  {
    std::ofstream out(path, std::ios::binary);
    out << kFlow;
  }
  REQUIRE(::chmod(path.c_str(), 0) == 0);
  testing::WithoutFileCapabilities as_user;
  if (!as_user.active()) {
    WARN("cannot drop CAP_DAC_OVERRIDE; skipping");
    return;
  }
  auto r = LoadConfigFile(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == path + ": cannot open config file: Permission denied (EACCES)");
}

TEST_CASE("LoadConfigFile reads a pipe, and refuses what is too large to be a config", "[config]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  REQUIRE(::write(fds[1], kFlow, std::strlen(kFlow)) == static_cast<ssize_t>(std::strlen(kFlow)));
  ::close(fds[1]);
  auto piped = LoadConfigFile("/dev/fd/" + std::to_string(fds[0]));
  ::close(fds[0]);
  REQUIRE(piped.ok());
  CHECK(piped->flows.at(0).name == "web");

  testing::ScratchDir dir("ferry-config");
  const std::string big = dir / "big.yaml";
  {
    std::ofstream out(big, std::ios::binary);
    out << std::string(kMaxConfigBytes + 1, '#');
  }
  auto r = LoadConfigFile(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == big + ": larger than 4 MiB, not a config file");
}

TEST_CASE("A parsed config knows where each given key's value is", "[config]") {
  const Config c = Parse(std::string("state_dir: /srv/ferry\naws:\n  ca_file: /etc/ca.pem\n") + kFlow);
  CHECK(c.locations.at("state_dir") == "ferry.yaml:1:12");
  CHECK(c.locations.at("aws.ca_file") == "ferry.yaml:3:12");
  CHECK(c.locations.at("flows[0].name") == "ferry.yaml:5:11");
  CHECK_FALSE(c.locations.contains("aws.proxy"));  // not given
  CHECK(LocatedKey(c, "aws.ca_file") == "ferry.yaml:3:12: aws.ca_file");
  CHECK(LocatedKey(c, "aws.proxy") == "aws.proxy");
}

TEST_CASE("LoadConfigFile parses a file and names it in errors", "[config]") {
  namespace fs = std::filesystem;
  fs::path path = fs::temp_directory_path() / ("ferry-config-test-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path, std::ios::binary);
    out << kFlow;
  }
  auto good = LoadConfigFile(path.string());
  REQUIRE(good.ok());
  CHECK(good->file == path.string());
  CHECK(good->flows.at(0).name == "web");

  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "log_level: loud\n" << kFlow;
  }
  auto bad = LoadConfigFile(path.string());
  fs::remove(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() ==
        path.string() + ":1:12: log_level: 'loud' is not one of: trace, debug, info, warn, error");
}

TEST_CASE("Kinesis partition keys: random, templates, fields and regexes, with their errors", "[config]") {
  const std::string head = "flows:\n  - name: a\n    files: /a.log\n    kinesis:\n      stream: s\n";
  using Kind = PartitionKeyOptions::Kind;
  CHECK(Parse(head).flows[0].kinesis->partition_key.kind == Kind::kRandom);
  auto fixed = Parse(head + "      partition_key: \"${hostname}-${flow}\"\n").flows[0].kinesis->partition_key;
  CHECK(fixed.kind == Kind::kTemplate);
  CHECK(fixed.text == "${hostname}-${flow}");
  auto field =
      Parse(head + "      partition_key: {field: user.id, fallback: \"${hostname}\"}\n").flows[0].kinesis;
  CHECK(field->partition_key.kind == Kind::kJsonField);
  CHECK(field->partition_key.text == "user.id");
  CHECK(field->partition_key.fallback == "${hostname}");
  auto regex = Parse(head + "      partition_key: {regex: 'user=(\\w+)'}\n").flows[0].kinesis->partition_key;
  CHECK(regex.kind == Kind::kRegex);
  CHECK(regex.fallback == "random");
  auto md5 = Parse(head + "      partition_key: data_md5\n");
  CHECK(md5.flows[0].kinesis->partition_key.kind == Kind::kDataMd5);
  CHECK(DescribeConfig(md5).find("partition_key: data_md5\n") != std::string::npos);
  CHECK(OneError(head + "      partition_key: \"${host}\"\n") ==
        "ferry.yaml:6:22: flows[0].kinesis.partition_key: partition key template \"${host}\" uses unknown "
        "variable "
        "${host}; the variables are ${hostname}, ${flow} and ${file}");
  CHECK(OneError(head + "      partition_key: {field: a, regex: b}\n")
            .find("needs exactly one of field or regex") != std::string::npos);
  CHECK(OneError(head + "      partition_key: {regex: 'no group'}\n")
            .find("flows[0].kinesis.partition_key: ") != std::string::npos);
  CHECK(OneError(head + "      partition_key: {colour: red}\n").find("partition_key.colour: unknown key") !=
        std::string::npos);
  CHECK(OneError(head + "      explicit_hash_key: \"-1\"\n").find("flows[0].kinesis.explicit_hash_key: ") !=
        std::string::npos);
  CHECK(Parse(head + "      explicit_hash_key: \"340282366920938463463374607431768211455\"\n")
            .flows[0]
            .kinesis->explicit_hash_key == "340282366920938463463374607431768211455");
  CHECK(OneError(head + "      aggregate_max_bytes: 2MiB\n") ==
        "ferry.yaml:6:28: flows[0].kinesis.aggregate_max_bytes: must be between 1KiB and 1MiB (the Kinesis "
        "record "
        "limit)");
  auto agg = Parse(head + "      aggregate: false\n      aggregate_max_records: 10\n").flows[0].kinesis;
  CHECK_FALSE(agg->aggregate);
  CHECK(agg->aggregate_max_records == 10);
}

TEST_CASE("A Firehose flow takes its section's options and defaults", "[config]") {
  const std::string head =
      "aws:\n  firehose_endpoint: http://127.0.0.1:4573\nflows:\n  - name: a\n    files: /a.log\n    "
      "firehose:\n"
      "      delivery_stream: web\n";
  Config c = Parse(head);
  CHECK(c.aws.firehose_endpoint == "http://127.0.0.1:4573");
  REQUIRE(c.flows[0].firehose);
  CHECK_FALSE(c.flows[0].kinesis);
  const FirehoseOptions& f = *c.flows[0].firehose;
  CHECK(f.delivery_stream == "web");
  CHECK(f.max_age == Duration(1000));
  CHECK(f.pack);
  CHECK(f.pack_max_bytes == 1000 << 10);
  CHECK(f.compression == Compression::kNone);

  Config set = Parse(head +
                     "      max_age: 250ms\n      pack: false\n      pack_max_bytes: 64KiB\n"
                     "      compression: zstd\n");
  CHECK(set.flows[0].firehose->max_age == Duration(250));
  CHECK_FALSE(set.flows[0].firehose->pack);
  CHECK(set.flows[0].firehose->pack_max_bytes == 64 << 10);
  CHECK(set.flows[0].firehose->compression == Compression::kZstd);

  CHECK(OneError(head + "      pack_max_bytes: 1MiB\n") ==
        "ferry.yaml:8:23: flows[0].firehose.pack_max_bytes: must be between 1KiB and 1000KiB");
  CHECK(OneError(head + "      compression: brotli\n") ==
        "ferry.yaml:8:20: flows[0].firehose.compression: 'brotli' is not one of: none, gzip, zstd");
  CHECK(OneError("flows:\n  - name: a\n    files: /a.log\n    firehose:\n      max_age: 1s\n") ==
        "ferry.yaml:5:7: flows[0].firehose.delivery_stream: missing required key");
}

TEST_CASE("A flow has exactly one destination", "[config]") {
  CHECK(OneError("flows:\n  - name: a\n    files: /a.log\n    kinesis:\n      stream: s\n    firehose:\n"
                 "      delivery_stream: d\n") ==
        "ferry.yaml:7:7: flows[0].firehose: a flow has one destination: 'kinesis' is given too (make two "
        "flows to send the same files to both)");
}

TEST_CASE("Kinesis protocol, compression and rate options", "[config]") {
  const std::string head = "flows:\n  - name: a\n    files: /a.log\n    kinesis:\n      stream: s\n";
  const KinesisOptions d = *Parse(head).flows[0].kinesis;
  CHECK(d.protocol == KinesisOptions::Protocol::kAuto);
  CHECK(d.compression == Compression::kNone);
  CHECK(d.rate_limit == 100);
  CHECK_FALSE(d.one_request_per_shard);
  CHECK(d.max_record_size == 1 << 20);
  CHECK(Parse(head + "      max_record_size: 10MiB\n").flows[0].kinesis->max_record_size == 10 << 20);
  CHECK(OneError(head + "      max_record_size: 512KiB\n") ==
        "ferry.yaml:6:24: flows[0].kinesis.max_record_size: must be between 1MiB and 10MiB (the stream's "
        "MaxRecordSize)");
  const KinesisOptions k = *Parse(head +
                                  "      protocol: cbor\n      compression: gzip\n      rate_limit: 0\n"
                                  "      one_request_per_shard: true\n")
                                .flows[0]
                                .kinesis;
  CHECK(k.protocol == KinesisOptions::Protocol::kCbor);
  CHECK(k.compression == Compression::kGzip);
  CHECK(k.rate_limit == 0);
  CHECK(k.one_request_per_shard);
  CHECK(OneError(head + "      rate_limit: 150\n") ==
        "ferry.yaml:6:19: flows[0].kinesis.rate_limit: 150 is out of range (0 to 100)");
  CHECK(OneError(head + "      protocol: xml\n") ==
        "ferry.yaml:6:17: flows[0].kinesis.protocol: 'xml' is not one of: auto, json, cbor");
}

TEST_CASE("Kinesis record_newline: off by default, parsed and printed back", "[config]") {
  const std::string head = "flows:\n  - name: a\n    files: /a.log\n    kinesis:\n      stream: s\n";
  const Config plain = Parse(head);
  CHECK_FALSE(plain.flows[0].kinesis->record_newline);
  CHECK(YAML::Load(DescribeConfig(plain))["flows"][0]["kinesis"]["record_newline"].as<std::string>() ==
        "false");
  const Config on = Parse(head + "      record_newline: true\n");
  CHECK(on.flows[0].kinesis->record_newline);
  // What `ferry check` prints is read back into the same setting.
  const std::string printed = DescribeConfig(on);
  CHECK(YAML::Load(printed)["flows"][0]["kinesis"]["record_newline"].as<std::string>() == "true");
  CHECK(Parse(printed).flows[0].kinesis->record_newline);
  CHECK(OneError(head + "      record_newline: maybe\n")
            .starts_with("ferry.yaml:6:23: flows[0].kinesis.record_newline: "));
}

TEST_CASE("spool and retry take their defaults", "[config]") {
  const Config c = Parse(kFlow);
  CHECK(c.spool.mode == SpoolOptions::Mode::kOnFailure);
  CHECK(c.spool.max_bytes == 1ULL << 30);
  CHECK(c.retry.backoff_base == Duration(100));
  CHECK(c.retry.backoff_cap == Duration(10000));
  CHECK(c.retry.slow_retry == Duration(60000));
  // An empty section is the defaults too.
  CHECK(Parse("spool:\nretry:\n" + std::string(kFlow)).spool.max_bytes == 1ULL << 30);

  YAML::Node doc = YAML::Load(DescribeConfig(c));
  CHECK(doc["spool"]["mode"].as<std::string>() == "on_failure");
  CHECK(doc["spool"]["max_bytes"].as<std::string>() == "1GiB");
  CHECK(doc["retry"]["backoff_base"].as<std::string>() == "100ms");
  CHECK(doc["retry"]["backoff_cap"].as<std::string>() == "10s");
  CHECK(doc["retry"]["slow_retry"].as<std::string>() == "1m");
}

TEST_CASE("spool mode and size, retry durations", "[config]") {
  const Config always = Parse("spool:\n  mode: always\n  max_bytes: 64MiB\n" + std::string(kFlow));
  CHECK(always.spool.mode == SpoolOptions::Mode::kAlways);
  CHECK(always.spool.max_bytes == 64ULL << 20);
  const Config on_failure = Parse("spool: {mode: on_failure, max_bytes: 1024GiB}\n" + std::string(kFlow));
  CHECK(on_failure.spool.mode == SpoolOptions::Mode::kOnFailure);
  CHECK(on_failure.spool.max_bytes == 1ULL << 40);
  CHECK(Parse("spool: {max_bytes: 1MiB}\n" + std::string(kFlow)).spool.max_bytes == 1ULL << 20);

  const Config r =
      Parse("retry:\n  backoff_base: 1ms\n  backoff_cap: 10m\n  slow_retry: 1h\n" + std::string(kFlow));
  CHECK(r.retry.backoff_base == Duration(1));
  CHECK(r.retry.backoff_cap == Duration(600000));
  CHECK(r.retry.slow_retry == Duration(3600000));
  // The cap may equal the base.
  const Config equal =
      Parse("retry: {backoff_base: 1m, backoff_cap: 1m, slow_retry: 1s}\n" + std::string(kFlow));
  CHECK(equal.retry.backoff_cap == equal.retry.backoff_base);

  // What `ferry check` prints parses back into the same settings.
  auto again = ParseConfig(DescribeConfig(always), "described.yaml");
  REQUIRE(again.ok());
  CHECK(again->spool.mode == SpoolOptions::Mode::kAlways);
  CHECK(again->spool.max_bytes == 64ULL << 20);
}

TEST_CASE("spool and retry values out of range, unknown or inconsistent", "[config]") {
  CHECK(OneError("spool:\n  mode: sometimes\n" + std::string(kFlow)) ==
        "ferry.yaml:2:9: spool.mode: 'sometimes' is not one of: on_failure, always");
  CHECK(OneError("spool:\n  mode: always\n  max_size: 1GiB\n" + std::string(kFlow)) ==
        "ferry.yaml:3:3: spool.max_size: unknown key (known keys here: mode, max_bytes)");
  CHECK(OneError("retry:\n  backof_base: 1s\n" + std::string(kFlow)) ==
        "ferry.yaml:2:3: retry.backof_base: unknown key (known keys here: backoff_base, backoff_cap, "
        "slow_retry)");
  CHECK(OneError("spool: always\n" + std::string(kFlow)) ==
        "ferry.yaml:1:8: spool: expected a mapping of keys to values");

  auto errors = Errors(
      "spool:\n"
      "  max_bytes: 1023KiB\n"
      "retry:\n"
      "  backoff_base: 0ms\n"
      "  backoff_cap: 11m\n"
      "  slow_retry: 999ms\n" +
      std::string(kFlow));
  CHECK(errors == std::vector<std::string>{
                      "ferry.yaml:2:14: spool.max_bytes: must be between 1MiB and 1024GiB",
                      "ferry.yaml:4:17: retry.backoff_base: must be between 1ms and 1m",
                      "ferry.yaml:5:16: retry.backoff_cap: must be between 10ms and 10m",
                      "ferry.yaml:6:15: retry.slow_retry: must be between 1s and 1h",
                  });
  CHECK(OneError("spool: {max_bytes: 1025GiB}\n" + std::string(kFlow)) ==
        "ferry.yaml:1:20: spool.max_bytes: must be between 1MiB and 1024GiB");
  CHECK(OneError("retry: {backoff_base: 2m}\n" + std::string(kFlow)) ==
        "ferry.yaml:1:23: retry.backoff_base: must be between 1ms and 1m");
  CHECK(OneError("retry: {backoff_cap: 9ms}\n" + std::string(kFlow)) ==
        "ferry.yaml:1:22: retry.backoff_cap: must be between 10ms and 10m");
  CHECK(OneError("retry: {slow_retry: 2h}\n" + std::string(kFlow)) ==
        "ferry.yaml:1:21: retry.slow_retry: must be between 1s and 1h");
}

TEST_CASE("retry.backoff_cap must not be below retry.backoff_base", "[config]") {
  CHECK(OneError("retry:\n  backoff_base: 5s\n  backoff_cap: 1s\n" + std::string(kFlow)) ==
        "ferry.yaml:3:16: retry.backoff_cap: 1s is less than retry.backoff_base (5s)");
  // Against the default cap of 10s, the error points at the base that was given.
  CHECK(OneError("retry:\n  backoff_base: 30s\n" + std::string(kFlow)) ==
        "ferry.yaml:2:17: retry.backoff_cap: 10s is less than retry.backoff_base (30s)");
}

TEST_CASE("DescribeKeys lists every key with its default", "[config]") {
  std::string keys = DescribeKeys();
  for (const char* key : {"state_dir",
                          "log_level",
                          "log_format",
                          "shutdown_timeout",
                          "memory_limit",
                          "aws",
                          "flows",
                          "aws.region",
                          "aws.access_key_id",
                          "aws.secret_access_key",
                          "aws.session_token",
                          "aws.kinesis_endpoint",
                          "flows[].name",
                          "flows[].files",
                          "flows[].start_at",
                          "flows[].max_record_bytes",
                          "flows[].kinesis",
                          "flows[].kinesis.stream",
                          "flows[].kinesis.max_age",
                          "checkpoint_interval",
                          "flows[].exclude",
                          "flows[].exclude_compressed",
                          "flows[].oversize",
                          "flows[].skip_header_lines",
                          "flows[].multiline",
                          "flows[].multiline.start",
                          "flows[].multiline.timeout",
                          "flows[].partial_line_timeout",
                          "flows[].max_open_files",
                          "flows[].close_inactive",
                          "flows[].scan_interval",
                          "flows[].kinesis.partition_key",
                          "flows[].kinesis.explicit_hash_key",
                          "flows[].kinesis.aggregate",
                          "flows[].kinesis.aggregate_max_bytes",
                          "flows[].kinesis.aggregate_max_records",
                          "flows[].kinesis.shard_map_refresh",
                          "flows[].kinesis.protocol",
                          "flows[].kinesis.compression",
                          "flows[].kinesis.rate_limit",
                          "flows[].kinesis.one_request_per_shard",
                          "flows[].kinesis.record_newline",
                          "flows[].kinesis.max_record_size",
                          "aws.firehose_endpoint",
                          "flows[].firehose",
                          "flows[].firehose.delivery_stream",
                          "flows[].firehose.max_age",
                          "flows[].firehose.pack",
                          "flows[].firehose.pack_max_bytes",
                          "flows[].firehose.compression",
                          "spool",
                          "spool.mode",
                          "spool.max_bytes",
                          "retry",
                          "retry.backoff_base",
                          "retry.backoff_cap",
                          "retry.slow_retry",
                          "metrics",
                          "metrics.listen"}) {
    INFO(key);
    CHECK(("\n" + keys).find("\n" + std::string(key) + " ") != std::string::npos);
  }
  // The plugins' own keys are counted by plugin_fields_test; here the config's (with flows[].plugins).
  std::size_t config_keys = 0;
  for (std::size_t at = 0; at < keys.size(); at = keys.find('\n', at) + 1) {
    if (keys.compare(at, 18, "flows[].plugins[].") != 0) ++config_keys;
  }
  CHECK(config_keys == 72);  // 69, log_format, and metrics, metrics.listen
}

}  // namespace
}  // namespace ferry::config
