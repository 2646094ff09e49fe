// Tests of Kinesis Agent agent.json support (agent/config/agent_json, agent_processing_options): how a file
// is told apart from ferry.yaml, the mapping of every key onto ferry's Config, the warnings (once per key,
// naming what ferry does instead), the errors (file:line:column and the key, for the broken files under
// tests/data/agent-json/broken), the README-style examples passing `ferry check` (parser and preflight), and
// `ferry check --convert` output that ferry's own parser reads as the same config.
#include "agent/config/agent_json.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/config/agent_json_context.h"
#include "agent/ops/preflight.h"
#include "plugins/parse/parse_options.h"
#include "plugins/singleline/singleline_plugin.h"
#include "tests/unit/scratch_dir.h"

namespace ferry::config {
namespace {

namespace fs = std::filesystem;

// Next to the golden files: tests/data/agent-json.
const std::string kDataDir = std::string(FERRY_GOLDEN_DIR) + "/../data/agent-json";

std::string DataPath(std::string_view name) {
  return kDataDir + "/" + std::string(name);
}

// An environment that gives the region and nothing else, so the preflight never asks a metadata service.
Environment RegionOnly() {
  return Environment(std::map<std::string, std::string, std::less<>>{{"AWS_REGION", "us-east-1"}});
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Config Parsed(std::string_view json) {
  auto config = ParseAgentJson(json, "agent.json");
  if (!config) FAIL("agent.json refused: " << config.error().message());
  return std::move(*config);
}

std::string ErrorOf(std::string_view json) {
  auto config = ParseAgentJson(json, "agent.json");
  REQUIRE_FALSE(config.ok());
  return config.error().message();
}

TEST_CASE("agent.json: told from ferry.yaml by its first character", "[agent_json]") {
  CHECK(LooksLikeAgentJson("{\"flows\": []}"));
  CHECK(LooksLikeAgentJson("\xEF\xBB\xBF\n  // the agent's config\n/* more */ {"));
  CHECK(LooksLikeAgentJson("/* an unclosed comment"));
  CHECK_FALSE(LooksLikeAgentJson("state_dir: /var/lib/ferry\nflows: []\n"));
  CHECK_FALSE(LooksLikeAgentJson("# {\nflows: []"));
  CHECK_FALSE(LooksLikeAgentJson(""));
  CHECK_FALSE(LooksLikeAgentJson("// only a comment\n"));
}

TEST_CASE("agent.json: flow keys mapped onto ferry's flow", "[agent_json]") {
  const Config config = Parsed(R"J({
    "flows": [
      { "filePattern": "/var/log/app/*.log", "kinesisStream": "app", "initialPosition": "START_OF_FILE",
        "maxBufferAgeMillis": 30000, "multiLineStartPattern": "\\d{4}-", "skipHeaderLines": "2",
        "truncatedRecordTerminator": "\n", "partitionKeyOption": "DETERMINISTIC" },
      { "filePattern": "/var/log/web.log", "deliveryStream": "web", "aggregatedRecordSizeBytes": 4096 },
      { "filePattern": "/var/log/web.log", "deliveryStream": "web", "aggregatedRecordSizeBytes": 0 },
      { "filePattern": "/var/log/web.log", "deliveryStream": "web" }
    ]})J");
  REQUIRE(config.flows.size() == 4);
  const FlowOptions& app = config.flows[0];
  CHECK(app.name == "app");
  CHECK(app.files == std::vector<std::string>{"/var/log/app/*.log"});
  CHECK(app.start_at == StartAt::kBeginning);
  CHECK(app.skip_header_lines == 2);
  CHECK(app.oversize == Oversize::kTruncate);
  REQUIRE(app.multiline.has_value());
  CHECK(app.multiline->start == "^(?:\\d{4}-)");  // Java's lookingAt(): anchored at the line's start
  REQUIRE(app.kinesis.has_value());
  CHECK(app.kinesis->stream == "app");
  CHECK(app.kinesis->max_age == Duration(30000));
  CHECK_FALSE(app.kinesis->aggregate);  // one record per line, as the agent sends
  CHECK(app.kinesis->record_newline);   // each ending with the line's newline, as the agent's did
  CHECK(app.kinesis->partition_key.kind == PartitionKeyOptions::Kind::kDataMd5);
  // Flows to the same destination get distinct names; the agent's flows have none.
  CHECK(config.flows[1].name == "web");
  CHECK(config.flows[2].name == "web-2");
  CHECK(config.flows[3].name == "web-3");
  REQUIRE(config.flows[1].firehose.has_value());
  CHECK(config.flows[1].firehose->pack);
  CHECK(config.flows[1].firehose->pack_max_bytes == 4096);
  CHECK_FALSE(config.flows[2].firehose->pack);
  CHECK_FALSE(config.flows[3].firehose->pack);  // the agent's default: no aggregation
  CHECK(config.flows[3].start_at == StartAt::kEnd);
  CHECK(config.flows[3].oversize == Oversize::kSplit);
}

TEST_CASE("agent.json: global keys mapped onto aws and the top level", "[agent_json]") {
  const Config config = Parsed(R"J({
    "awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "secret",
    "assumeRoleARN": "arn:aws:iam::123456789012:role/r", "assumeRoleExternalId": "ext",
    "kinesis.endpoint": "kinesis.eu-central-1.amazonaws.com", "firehose.endpoint": "http://127.0.0.1:4567",
    "sts.endpoint": "https://sts.eu-central-1.amazonaws.com", "shutdownTimeoutMillis": 2500,
    "log.level": "DEBUG", "connectionTimeoutMillis": 2000,
    "flows": [ { "filePattern": "/a/b", "kinesisStream": "s" } ]})J");
  CHECK(config.aws.access_key_id == "AKIDEXAMPLE");
  CHECK(config.aws.secret_access_key == "secret");
  CHECK(config.aws.role_arn == "arn:aws:iam::123456789012:role/r");
  CHECK(config.aws.external_id == "ext");
  CHECK(config.aws.kinesis_endpoint == "https://kinesis.eu-central-1.amazonaws.com");  // a host name: https
  CHECK(config.aws.firehose_endpoint == "http://127.0.0.1:4567");
  CHECK(config.aws.sts_endpoint == "https://sts.eu-central-1.amazonaws.com");
  CHECK(config.aws.region == "eu-central-1");  // from the Kinesis endpoint, as the agent's SDK took it
  CHECK(config.aws.connect_timeout == Duration(2000));
  CHECK(config.shutdown_timeout == Duration(2500));
  CHECK(config.log_level == "debug");
  // Every key here is mapped exactly: nothing to warn about (the records' newline is record_newline).
  CHECK(config.warnings.empty());
  // kinesis.region wins over the endpoint's region; empty strings are as good as absent, as in the agent.
  const Config region = Parsed(
      R"J({"kinesis.region": "ap-south-1", "kinesis.endpoint": "https://kinesis.us-east-1.amazonaws.com",
    "firehose.endpoint": "", "flows": [ { "filePattern": "/a/b", "kinesisStream": "s" } ]})J");
  CHECK(region.aws.region == "ap-south-1");
  CHECK(region.aws.firehose_endpoint.empty());
}

TEST_CASE("agent.json: processing options become plugins", "[agent_json]") {
  const Config config = Parsed(R"J({"flows": [ { "filePattern": "/a/b", "kinesisStream": "s",
    "dataProcessingOptions": [
      { "optionName": "SINGLELINE", "parseOptions": ["NO_TRIM", "ESCAPE_NEW_LINE"] },
      { "optionName": "CSVTOJSON", "customFieldNames": ["a", "b"], "delimiter": "\\t" },
      { "optionName": "LOGTOJSON", "logFormat": "RFC3339SYSLOG" },
      { "optionName": "LOGTOJSON", "logFormat": "COMMONAPACHELOG", "matchPattern": "(\\S+) (\\S+)",
        "customFieldNames": ["host", "rest"] }
    ] } ]})J");
  const auto& plugins = config.flows[0].plugins;
  REQUIRE(plugins.size() == 4);
  CHECK(plugins[0].kind->name() == "singleline");
  const auto& single = *static_cast<const plugins::SinglelineOptions*>(plugins[0].options.get());
  CHECK_FALSE(single.trim);
  CHECK(single.separator == "\\\\n");  // the three characters the agent's ESCAPE_NEW_LINE writes
  const auto& csv = *static_cast<const plugins::ParseOptions*>(plugins[1].options.get());
  CHECK(csv.format == plugins::ParseFormat::kCsv);
  CHECK(csv.field_names == std::vector<std::string>{"a", "b"});
  CHECK(csv.delimiter == '\t');
  CHECK(plugins[1].on_error == OnError::kPass);
  const auto& syslog = *static_cast<const plugins::ParseOptions*>(plugins[2].options.get());
  CHECK(syslog.format == plugins::ParseFormat::kSyslogRfc3164);
  CHECK(plugins[2].on_error == OnError::kDrop);  // the agent drops lines that do not parse
  const auto& apache = *static_cast<const plugins::ParseOptions*>(plugins[3].options.get());
  CHECK(apache.format == plugins::ParseFormat::kApacheCommon);
  CHECK(apache.match_pattern == "(\\S+) (\\S+)");
  CHECK(apache.custom_field_names == std::vector<std::string>{"host", "rest"});
  // Errors found when the plugin is made name the processing option.
  CHECK(plugins[3].path == "flows[0].dataProcessingOptions[3]");
  CHECK(plugins[3].location == "agent.json:6:7");
}

TEST_CASE("agent.json: keys ferry treats differently are warned about once, with what ferry does",
          "[agent_json]") {
  const Config config = Parsed(R"J({
    "checkpointFile": "/var/run/aws-kinesis-agent/checkpoints",
    "cloudwatch.emitMetrics": true,
    "cloudwatch.emitMetrics.unknownButCloudwatch": 1,
    "maxSendingThreads": 4,
    "flows": [
      { "filePattern": "/a/b", "kinesisStream": "s", "maxBufferSizeRecords": 100, "aggregatedRecordSizeBytes": 10 },
      { "filePattern": "/a/c", "kinesisStream": "t", "maxBufferSizeRecords": 200 },
      { "filePattern": "/a/d", "deliveryStream": "f", "partitionKeyOption": "RANDOM",
        "truncatedRecordTerminator": "[cut]", "dataProcessingOptions": [
          { "optionName": "CSVTOJSON", "customFieldNames": ["a"], "jsonFormat": "PRETTYPRINT" } ] }
    ]})J");
  const std::vector<std::string> expected = {
      "agent.json:2:23: checkpointFile: ferry keeps checkpoints under state_dir (/var/lib/ferry), not in "
      "this "
      "file: they survive a reboot, which /var/run does not",
      "agent.json:3:31: cloudwatch.emitMetrics: not used: ferry sends no CloudWatch metrics",
      "agent.json:4:52: cloudwatch.emitMetrics.unknownButCloudwatch: not used",
      "agent.json:5:26: maxSendingThreads: ferry sends from one event-loop thread",
      "agent.json:7:78: flows[0].maxBufferSizeRecords: ferry fills each request up to the API's limits",
      "agent.json:7:112: flows[0].aggregatedRecordSizeBytes: ignored for a kinesisStream flow",
      "agent.json:9:77: flows[2].partitionKeyOption: ignored for a deliveryStream flow",
      "agent.json:10:38: flows[2].truncatedRecordTerminator: ferry cuts a record over max_record_bytes "
      "and ends it with a newline like every other record",
      "agent.json:11:81: flows[2].dataProcessingOptions[0].jsonFormat: ferry writes each record as compact "
      "JSON",
  };
  REQUIRE(config.warnings.size() == expected.size());  // maxBufferSizeRecords of flows[1]: no second warning
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(config.warnings[i]);
    CHECK(config.warnings[i].starts_with(expected[i]));
  }
  // emitMetrics false asks for what ferry does anyway.
  CHECK(
      Parsed(
          R"J({"cloudwatch.emitMetrics": false, "flows": [ { "filePattern": "/a/b", "deliveryStream": "s" } ]})J")
          .warnings.empty());
}

TEST_CASE("agent.json: the preflight reports the warnings and locates keys in the agent.json",
          "[agent_json]") {
  testing::ScratchDir dir("ferry-agent-json");
  Config config = Parsed(
      "{\"checkpointFile\": \"/x\",\n \"flows\": [ { \"filePattern\": \"/a/b\", \"kinesisStream\": \"s\" } "
      "]}");
  config.state_dir = dir / "state";
  const PreflightReport report = Preflight(config, RegionOnly());
  CHECK(report.ok());
  REQUIRE_FALSE(report.warnings.empty());
  CHECK(report.warnings[0].starts_with("agent.json:1:20: checkpointFile:"));
  CHECK(LocatedKey(config, "flows[0].files") == "agent.json:2:30: flows[0].files");
  CHECK(LocatedKey(config, "flows[0].kinesis.stream") == "agent.json:2:55: flows[0].kinesis.stream");
}

// The broken files: each error names the file, the line and column of the value, and the agent key.
TEST_CASE("agent.json: each broken file's error names its line and key", "[agent_json]") {
  struct Case {
    std::string_view file;
    std::string_view starts;  // file:line:column: key
    std::string_view contains;
  };
  const std::vector<Case> cases = {
      {"syntax-missing-comma.json", ":5:7: flows[0].filePattern: ", "Missing a comma"},
      {"unknown-flow-key.json", ":5:7: flows[0].kinesisstream: ", "did you mean kinesisStream?"},
      {"unknown-global-key.json", ":2:3: kinesis.endpiont: ", "unknown key"},
      {"bad-initial-position.json", ":6:26: flows[0].initialPosition: ", "START_OF_FILE, END_OF_FILE"},
      {"buffer-age-out-of-range.json", ":6:29: flows[0].maxBufferAgeMillis: ", "1000 to 900000"},
      {"no-destination.json", ":3:5: flows[0]: ", "kinesisStream or deliveryStream"},
      {"two-destinations.json", ":6:24: flows[0].kinesisStream: ", "one destination"},
      {"java-only-regex.json", ":6:32: flows[0].multiLineStartPattern: ", "not a valid regular expression"},
      {"unmapped-option.json",
       ":7:25: flows[0].dataProcessingOptions[0].optionName: ", "ADDEC2METADATA is not mapped"},
      {"key-twice.json", ":6:7: flows[0].filePattern: ", "key given twice"},
      {"wrong-type.json", ":4:22: flows[0].filePattern: ", "expected a string, found a list"},
      {"secret-without-key.json", ":2:25: awsSecretAccessKey: ", "awsAccessKeyId is required"},
      {"no-flows.json", ":3:12: flows: ", "non-empty list"},
  };
  for (const auto& c : cases) {
    const std::string path = DataPath("broken/" + std::string(c.file));
    INFO(path);
    auto config = LoadConfigFile(path);
    REQUIRE_FALSE(config.ok());
    const std::string& message = config.error().message();
    INFO(message);
    CHECK(message.find(path + std::string(c.starts)) != std::string::npos);
    CHECK(message.find(c.contains) != std::string::npos);
  }
  // One that only the preflight finds (the parse plugin counts the names when it is made).
  testing::ScratchDir dir("ferry-agent-json");
  auto config = LoadConfigFile(DataPath("broken/field-count.json"));
  REQUIRE(config.ok());
  config->state_dir = dir / "state";
  const PreflightReport report = Preflight(*config, RegionOnly());
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].starts_with(
      DataPath("broken/field-count.json") +
      ":7:9: flows[0].dataProcessingOptions[0]: parse: format apache_common has 7 "
      "fields but custom_field_names names 3"));
}

TEST_CASE("agent.json: every error at once, each at its value", "[agent_json]") {
  const std::string message = ErrorOf(R"J({"flows": [ { "filePattern": 7, "kinesisStream": "s",
    "skipHeaderLines": -1, "maxBufferSizeBytes": 9999999, "initialPosition": null, "fileFooterPattern": "END",
    "dataProcessingOptions": [ { "optionName": "LOGTOJSON" }, { "optionName": "ADDMETADATA" }, { "logFormat": "SYSLOG" },
      { "optionName": "SINGLELINE", "parseOptions": ["TRIM"] }, { "optionName": "CSVTOJSON", "delim": "," } ] } ]})J");
  for (std::string_view expected : {
           "agent.json:1:30: flows[0].filePattern: needs a folder",
           "agent.json:2:24: flows[0].skipHeaderLines: -1 is outside the agent's range 0 to 1000000",
           "agent.json:2:50: flows[0].maxBufferSizeBytes: 9999999 is outside the agent's range 1 to 5242880",
           "agent.json:2:105: flows[0].fileFooterPattern: not mapped yet",
           "agent.json:3:32: flows[0].dataProcessingOptions[0].logFormat: missing required key",
           "agent.json:3:79: flows[0].dataProcessingOptions[1].optionName: ADDMETADATA is not mapped yet",
           "agent.json:3:96: flows[0].dataProcessingOptions[2].optionName: missing required key",
           "agent.json:4:54: flows[0].dataProcessingOptions[3].parseOptions[0]: 'TRIM' is not one of",
           "agent.json:4:94: flows[0].dataProcessingOptions[4].delim: unknown key",
       }) {
    INFO(message);
    CHECK(message.find(expected) != std::string::npos);
  }
}

// The examples (the agent's own example and release configs, the documented multi-flow and processing
// configurations, its test config with comments) pass what `ferry check` runs: the parser and the preflight.
TEST_CASE("agent.json: the example configurations pass ferry check", "[agent_json]") {
  testing::ScratchDir dir("ferry-agent-json");
  std::size_t examples = 0;
  for (const auto& entry : fs::directory_iterator(kDataDir)) {
    if (entry.path().extension() != ".json") continue;
    ++examples;
    INFO(entry.path());
    auto config = LoadConfigFile(entry.path().string());
    REQUIRE(config.ok());
    config->state_dir = dir / "state";
    const PreflightReport report = Preflight(*config, RegionOnly());
    for (const auto& e : report.errors) UNSCOPED_INFO(e);
    CHECK(report.ok());
  }
  CHECK(examples >= 5);
}

// --convert: the text parses as ferry.yaml into the very config the agent.json gives.
TEST_CASE("agent.json: the converted ferry.yaml is the same config", "[agent_json]") {
  for (const auto& entry : fs::directory_iterator(kDataDir)) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path());
    const std::string text = ReadText(entry.path().string());
    auto conversion = ConvertAgentJson(text, entry.path().string());
    REQUIRE(conversion.ok());
    auto from_yaml = ParseConfig(conversion->yaml, "converted.yaml");
    if (!from_yaml) FAIL(from_yaml.error().message() << "\n" << conversion->yaml);
    auto from_json = ParseAgentJson(text, entry.path().string());
    REQUIRE(from_json.ok());
    CHECK(DescribeConfig(*from_yaml) == DescribeConfig(*from_json));
    // Each warning is also a comment of the converted text, so a migration keeps them.
    for (const auto& warning : conversion->warnings)
      CHECK(conversion->yaml.find(warning) != std::string::npos);
  }
}

TEST_CASE("agent.json: strings that YAML would misread are quoted so they read back exactly",
          "[agent_json]") {
  const Config config = Parsed(R"J({"flows": [ { "filePattern": "/var/log/it's #1: {x}\u2028\u0085\ufeff.log",
    "kinesisStream": "s", "multiLineStartPattern": "'\"\\t\n" } ]})J");
  CHECK(config.flows[0].files[0] == "/var/log/it's #1: {x}\u2028\u0085\ufeff.log");
  CHECK(config.flows[0].multiline->start == "^(?:'\"\\t\n)");
  // Characters a YAML 1.1 reader takes for line breaks or drops are written as escapes, so the converted
  // file reads the same in other tools too.
  auto conversion = ConvertAgentJson(
      R"J({"flows": [ { "filePattern": "/a/\u2028\u0085\ufeff", "kinesisStream": "s" } ]})J", "agent.json");
  REQUIRE(conversion.ok());
  CHECK(conversion->yaml.find(R"(files: ["/a/\u2028\u0085\ufeff"])") != std::string::npos);
  // A file name with a line break stays in its comment.
  auto odd_name = ConvertAgentJson(R"J({"flows": [ { "filePattern": "/a/b", "kinesisStream": "s" } ]})J",
                                   "agent\n.json:\nflows: 7");
  REQUIRE(odd_name.ok());
  CHECK(ParseConfig(odd_name->yaml, "converted.yaml").ok());
  CHECK(YamlQuote("it's") == "'it''s'");
  CHECK(YamlQuote("a\tb\"c\\") == R"("a\tb\"c\\")");
}

}  // namespace
}  // namespace ferry::config
