// Tests of the billing counters of Sender (agent/delivery/sender): a record is billed only once the endpoint
// has acknowledged it, once however often it was retried, by the output's billing rule on its data (the
// partition key does not count); its one-record-per-line figure is the packer's mark, or an estimate for a
// record that has none (read back from the spool). Runs on the harness of sender_harness.h.
#include "agent/delivery/sender.h"

#include <catch2/catch.hpp>

#include "agent/delivery/billing_units.h"
#include "tests/unit/sender_harness.h"

namespace ferry {
namespace {

using namespace ferry::sender_testing;  // NOLINT(google-build-using-namespace): the harness

SenderOptions Billing(BillingRule rule) {
  SenderOptions options;
  options.billing = rule;
  options.backoff_base = Duration(5);
  options.backoff_cap = Duration(10);
  return options;
}

TEST_CASE("Sender bills acknowledged records once, by their data, after any retries", "[sender][billing]") {
  Harness h(Billing(&FirehoseBilledBytes));
  WireRecord marked = h.Record("A", "A0", 5'121);  // 5,120 bytes of data and a 1-byte key: one step
  marked.unaggregated_units = 3 * 5'120;           // as if it packed three short lines
  WireRecord retried = h.Record("A", "A1", 6'000);
  retried.user_records = 2;  // no mark: two lines of an equal share of 5,999 bytes, 5,120 each
  h.endpoint.fail_record_once = {"A1"};
  h.endpoint.fail_record_always = {"A2"};
  h.Submit({marked, retried, h.Record("A", "A2", 50'000)});
  CHECK(h.Run(300) == 1);  // A2 is given up at the drain's timeout, never billed
  const SenderCounters& c = h.sender().counters();
  CHECK(c.records_sent == 2);
  CHECK(c.billed_units == 5'120 + 10'240);
  CHECK(c.billed_units_unaggregated == 3 * 5'120 + 2 * 5'120);
  h.Finish();
}

TEST_CASE("Sender counts no billing without a rule", "[sender][billing]") {
  Harness h(SenderOptions{});
  h.Submit({h.Record("A", "A0", 100)});
  CHECK(h.Run() == 0);
  CHECK(h.sender().counters().records_sent == 1);
  CHECK(h.sender().counters().billed_units == 0);
  CHECK(h.sender().counters().billed_units_unaggregated == 0);
  h.Finish();
}

TEST_CASE("Sender bills Kinesis records in PUT payload units", "[sender][billing]") {
  Harness h(Billing(&KinesisPayloadUnits));
  WireRecord aggregate = h.Record("A", "A0", 25'602);  // 25,601 bytes of data: two units
  aggregate.user_records = 5;
  aggregate.unaggregated_units = 5;
  h.Submit({aggregate, h.Record("A", "A1", 25'601)});  // 25,600 bytes: one unit, alone
  CHECK(h.Run() == 0);
  CHECK(h.sender().counters().billed_units == 2 + 1);
  CHECK(h.sender().counters().billed_units_unaggregated == 5 + 1);
  h.Finish();
}

}  // namespace
}  // namespace ferry
