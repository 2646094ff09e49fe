// Tests of a flow's `plugins:` list (agent/config/plugin_fields): entries parsed by each plugin's own table
// with errors located down to the option, on_error on every plugin, unknown plugins named with the known
// ones, the effective config printed back, every plugin key in `ferry check --keys`, and the plugin
// section of man/ferry.yaml.5 equal to what the tables say (FERRY_UPDATE_MAN=1 rewrites it), and the
// warnings about plugins taken together (plugins/chain_warnings.h).
#include "agent/config/plugin_fields.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/config/config.h"
#include "plugins/builtin_plugins.h"
#include "plugins/chain_warnings.h"

namespace ferry::config {
namespace {

std::string FlowWith(const std::string& plugins) {
  return "flows:\n"
         "  - name: web\n"
         "    files: [/var/log/a.log]\n"
         "    kinesis: { stream: s }\n"
         "    plugins:\n" +
         plugins;
}

std::string ErrorsOf(const std::string& yaml) {
  auto parsed = ParseConfig(yaml, "ferry.yaml");
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message();
}

constexpr const char* kBegin = ".\\\" plugin keys: generated from the plugins' option tables\n";
constexpr const char* kEnd = ".\\\" end of generated plugin keys\n";

}  // namespace

TEST_CASE("A flow's plugins are parsed in order, each by its own table, on_error on each",
          "[plugins][config]") {
  auto parsed = ParseConfig(FlowWith("      - grep: { exclude: 'GET /health' }\n"
                                     "      - singleline\n"
                                     "      - grep: { include: [a, b], on_error: drop }\n"),
                            "ferry.yaml");
  REQUIRE(parsed.ok());
  const auto& plugins = parsed->flows[0].plugins;
  REQUIRE(plugins.size() == 3);
  CHECK(plugins[0].kind->name() == "grep");
  CHECK(plugins[0].on_error == OnError::kPass);
  CHECK(plugins[1].kind->name() == "singleline");
  CHECK(plugins[2].on_error == OnError::kDrop);
  CHECK(plugins[2].path == "flows[0].plugins[2].grep");
  CHECK(plugins[2].location == "ferry.yaml:8:9");
  // Printed back for `ferry check`, with every option's effective value.
  const std::string described = DescribeConfig(*parsed);
  CHECK(described.find("plugins:") != std::string::npos);
  CHECK(described.find("on_error: drop") != std::string::npos);
  CHECK(described.find("GET /health") != std::string::npos);
}

TEST_CASE("Plugin entries that cannot be read say where and why", "[plugins][config]") {
  CHECK(ErrorsOf(FlowWith("      - gerp: { exclude: x }\n")) ==
        "ferry.yaml:6:9: flows[0].plugins[0]: unknown plugin 'gerp' (known plugins: " +
            [] {
              std::string known;
              for (const auto* kind : plugins::BuiltinPlugins())
                known += (known.empty() ? "" : ", ") + std::string(kind->name());
              return known;
            }() +
            ")");
  CHECK(ErrorsOf(FlowWith("      - grep: { exclude: x }\n        singleline: {}\n"))
            .find("ferry.yaml:6:9: flows[0].plugins[0]: each item names one plugin") == 0);
  CHECK(
      ErrorsOf(FlowWith("      - grep: { exclude: x, on_error: explode }\n")) ==
      "ferry.yaml:6:39: flows[0].plugins[0].grep.on_error: 'explode' is not one of: pass, drop, dead_letter");
  CHECK(ErrorsOf(FlowWith("      - grep: { exlude: x }\n"))
            .find("ferry.yaml:6:17: flows[0].plugins[0].grep.exlude: unknown key") == 0);
  CHECK(ErrorsOf(FlowWith("      grep: x\n")).find("flows[0].plugins: expected a list of plugins") !=
        std::string::npos);
  // Every error at once, each at its own place.
  const std::string both = ErrorsOf(FlowWith("      - grep: { exlude: x }\n      - nope\n"));
  CHECK(both.find("plugins[0].grep.exlude") != std::string::npos);
  CHECK(both.find("plugins[1]: unknown plugin 'nope'") != std::string::npos);
}

TEST_CASE("add naming a field that parse gives every record is warned about, with where",
          "[plugins][config]") {
  auto warnings = [](const std::string& plugins) {
    auto parsed = ParseConfig(FlowWith(plugins), "ferry.yaml");
    REQUIRE(parsed.ok());
    return plugins::ChainWarnings(parsed->flows[0].plugins);
  };
  // The issue's own chain: apache_combined's host is the client; ${hostname} under that name never lands.
  auto found = warnings(
      "      - grep: { exclude: 'GET /health' }\n"
      "      - parse: { format: apache_combined }\n"
      "      - redact: { patterns: [email] }\n"
      "      - add: { fields: { host: '${hostname}', file: '${file}' }, timestamp: time, record_id: bytes "
      "}\n");
  REQUIRE(found.size() == 2);
  CHECK(found[0] ==
        "ferry.yaml:9:9: flows[0].plugins[3].add.fields.host: flows[0].plugins[1].parse already gives every "
        "record a field 'host', so add keeps the record's value and never adds this one (if_present: keep); "
        "give this field another name");
  CHECK(
      found[1].find("flows[0].plugins[3].add.record_id: flows[0].plugins[1].parse already gives every record "
                    "a field 'bytes'") != std::string::npos);
  // Two adds of one name; if_present: fail fails every record.
  found = warnings(
      "      - parse: { format: csv, field_names: [a, b] }\n"
      "      - add: { fields: { c: x } }\n"
      "      - add: { fields: { c: y }, if_present: fail }\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].find("plugins[2].add.fields.c:") != std::string::npos);
  CHECK(found[0].find("add fails every record it parsed (if_present: fail)") != std::string::npos);
  // Names that do not meet, no parse before add, or a plugin between them that may rename: no warning.
  CHECK(warnings("      - parse: { format: syslog_rfc3164 }\n"
                 "      - add: { fields: { shipper: '${hostname}' } }\n")
            .empty());
  CHECK(warnings("      - add: { fields: { host: '${hostname}' } }\n"
                 "      - parse: { format: apache_combined }\n")
            .empty());
  CHECK(warnings("      - parse: { format: apache_combined }\n"
                 "      - json: { rename: { host: client } }\n"
                 "      - add: { fields: { host: '${hostname}' } }\n")
            .empty());
}

TEST_CASE("ferry check --keys lists every plugin and each of its options", "[plugins][config]") {
  const std::string keys = DescribeKeys();
  REQUIRE_FALSE(plugins::BuiltinPlugins().empty());
  for (const auto* kind : plugins::BuiltinPlugins()) {
    const std::string at = "flows[].plugins[]." + std::string(kind->name());
    CHECK(keys.find("\n" + at + " ") != std::string::npos);
    CHECK(keys.find("\n" + at + ".on_error ") != std::string::npos);
  }
}

TEST_CASE("The plugin section of man/ferry.yaml.5 is what the option tables say", "[plugins][config][man]") {
  const std::string path = std::string(FERRY_MAN_DIR) + "/ferry.yaml.5";
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  std::string page = text.str();
  const auto begin = page.find(kBegin);
  const auto end = page.find(kEnd);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  const std::size_t from = begin + std::string(kBegin).size();
  const std::string generated = PluginKeysManText();
  if (std::getenv("FERRY_UPDATE_MAN") != nullptr) {
    page.replace(from, end - from, generated);
    std::ofstream(path) << page;
    return;
  }
  INFO("run the unit tests with FERRY_UPDATE_MAN=1 to write the tables' text into " << path);
  CHECK(page.substr(from, end - from) == generated);
}

}  // namespace ferry::config
