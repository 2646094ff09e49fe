// Tests of what a reload changes (agent/ops/reload_plan.h), from pairs of parsed configs.
#include "agent/ops/reload_plan.h"

#include <string>

#include <catch2/catch.hpp>

namespace ferry {
namespace {

config::Config Parse(const std::string& yaml) {
  auto r = config::ParseConfig(yaml, "ferry.yaml");
  if (!r.ok()) FAIL("unexpected error: " << r.error().message());
  return std::move(r.value());
}

std::string Flow(const std::string& name, const std::string& stream, const std::string& extra = "") {
  return "  - name: " + name + "\n    files: /var/log/" + name + ".log\n" + extra +
         "    kinesis:\n      stream: " + stream + "\n";
}

const std::string kTop = "state_dir: /tmp/ferry-plan\naws:\n  region: eu-west-1\nflows:\n";

// "name=change" for each flow, in name order.
std::string Changes(const ReloadPlan& plan) {
  std::string out;
  for (const auto& f : plan.flows) out += f.name + "=" + std::string(FlowChangeName(f.change)) + " ";
  return out;
}

ReloadPlan Plan(const std::string& running, const std::string& next) {
  auto plan = PlanReload(Parse(running), Parse(next));
  REQUIRE(plan.ok());
  return plan.value();
}

TEST_CASE("the same config reloaded changes nothing", "[reload_plan]") {
  const std::string yaml = kTop + Flow("a", "s1") + Flow("b", "s2");
  auto plan = Plan(yaml, yaml);
  CHECK(Changes(plan) == "a=unchanged b=unchanged ");
  CHECK_FALSE(plan.changes_anything());
}

TEST_CASE("flows are matched by name: added, removed, changed, unchanged", "[reload_plan]") {
  auto plan = Plan(kTop + Flow("a", "s1") + Flow("b", "s2") + Flow("c", "s3"),
                   kTop + Flow("d", "s4") + Flow("b", "s2-new") + Flow("a", "s1"));
  // Order in the file does not matter; a different stream restarts b, c went, d came.
  CHECK(Changes(plan) == "a=unchanged b=restarted c=removed d=added ");
  CHECK(plan.flows[1].why == "its options changed");
  CHECK_FALSE(plan.aws_changed);
  CHECK_FALSE(plan.shared_changed);
  CHECK(plan.changes_anything());
}

TEST_CASE("a default written out is no change; a plugin or a partition key is", "[reload_plan]") {
  const std::string base = kTop + Flow("a", "s1");
  // start_at: end is the default: the same flow.
  CHECK(Changes(Plan(base, kTop + Flow("a", "s1", "    start_at: end\n"))) == "a=unchanged ");
  CHECK(Changes(Plan(base, kTop + Flow("a", "s1", "    start_at: beginning\n"))) == "a=restarted ");
  CHECK(Changes(Plan(base, kTop + Flow("a", "s1", "    plugins:\n      - grep: { exclude: health }\n"))) ==
        "a=restarted ");
  // A plugin's option.
  CHECK(Changes(Plan(kTop + Flow("a", "s1", "    plugins:\n      - grep: { exclude: health }\n"),
                     kTop + Flow("a", "s1", "    plugins:\n      - grep: { exclude: ready }\n"))) ==
        "a=restarted ");
  const std::string keyed =
      "  - name: a\n    files: /var/log/a.log\n    kinesis:\n      stream: s1\n"
      "      partition_key: { field: user }\n";
  CHECK(Changes(Plan(base, kTop + keyed)) == "a=restarted ");
  CHECK(Changes(Plan(kTop + keyed, kTop + keyed)) == "a=unchanged ");
}

TEST_CASE("what every flow is built from restarts every flow; daemon settings restart none",
          "[reload_plan]") {
  const std::string flows = Flow("a", "s1") + Flow("b", "s2");
  const std::string base = kTop + flows;

  auto spool = Plan(base, "spool:\n  mode: always\n" + base);
  CHECK(spool.shared_changed);
  CHECK(Changes(spool) == "a=restarted b=restarted ");
  CHECK(spool.flows[0].why == "spool, retry or checkpoint_interval changed");
  CHECK(Changes(Plan(base, "checkpoint_interval: 2s\n" + base)) == "a=restarted b=restarted ");

  auto daemon = Plan(base, "log_level: debug\nmemory_limit: 64MiB\nshutdown_timeout: 3s\n" + base);
  CHECK(daemon.log_level_changed);
  CHECK(daemon.memory_limit_changed);
  CHECK_FALSE(daemon.shared_changed);
  CHECK(Changes(daemon) == "a=unchanged b=unchanged ");
  CHECK(daemon.changes_anything());
}

TEST_CASE("a changed aws section, secrets included, restarts every flow on new access", "[reload_plan]") {
  const std::string flows = Flow("a", "s1");
  auto endpoint = Plan(kTop + flows,
                       "state_dir: /tmp/ferry-plan\naws:\n  region: eu-west-1\n"
                       "  kinesis_endpoint: http://127.0.0.1:4567\nflows:\n" +
                           flows);
  CHECK(endpoint.aws_changed);
  CHECK(Changes(endpoint) == "a=restarted ");
  CHECK(endpoint.flows[0].why == "the aws section changed");

  const std::string keys =
      "state_dir: /tmp/ferry-plan\naws:\n  region: eu-west-1\n  access_key_id: AKIAEXAMPLE\n"
      "  secret_access_key: ";
  // `ferry check` shows both secrets alike, "(set, hidden)": the plan must still see them differ.
  CHECK(Plan(keys + "one\nflows:\n" + flows, keys + "two\nflows:\n" + flows).aws_changed);
  CHECK_FALSE(Plan(keys + "one\nflows:\n" + flows, keys + "one\nflows:\n" + flows).aws_changed);
}

TEST_CASE("a first flow of a service the running config did not use needs new AWS access", "[reload_plan]") {
  const std::string firehose =
      "  - name: f\n    files: /var/log/f.log\n    firehose:\n      delivery_stream: d\n";
  auto plan = Plan(kTop + Flow("a", "s1"), kTop + Flow("a", "s1") + firehose);
  CHECK(plan.aws_changed);
  CHECK(Changes(plan) == "a=restarted f=added ");
  // Removing the only Firehose flow needs nothing new.
  auto fewer = Plan(kTop + Flow("a", "s1") + firehose, kTop + Flow("a", "s1"));
  CHECK_FALSE(fewer.aws_changed);
  CHECK(Changes(fewer) == "a=unchanged f=removed ");
}

TEST_CASE("state_dir cannot change on a reload", "[reload_plan]") {
  const std::string flows = Flow("a", "s1");
  auto plan = PlanReload(Parse(kTop + flows), Parse("state_dir: /tmp/elsewhere\nflows:\n" + flows));
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.error().code() == ErrorCode::kInvalidArgument);
  CHECK(plan.error().message() ==
        "ferry.yaml:1:12: state_dir: state_dir cannot change on a reload (running with /tmp/ferry-plan, the "
        "file now says /tmp/elsewhere); restart ferry to move it");
}

}  // namespace
}  // namespace ferry
