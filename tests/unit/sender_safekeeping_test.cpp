// Tests of what Sender (agent/delivery/sender) hands to the spool and to the dead letters, and when, on the
// harness of sender_harness.h. The spool and dead letters are played by Kept, which takes or refuses
// records at once or later (as the real ones do when their disk work, off the loop, is done), so every
// case runs both ways: a request that fails as a whole is spilled at once; failed records get one retry
// from memory first; records from the spool are never spilled again; a refused request is halved until
// the refused record is alone and becomes a dead letter; records being written stay with the sender,
// unacknowledged and counted as unsent, until the write is durable; a write that fails leaves them in
// memory to be retried (a dead letter that cannot be written is spilled); a drain spills what fails and
// waits for the writes under way, also past its timeout. Single-threaded: everything runs on the test's
// loop.
#include "agent/delivery/sender.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>

#include "tests/unit/sender_harness.h"

namespace ferry {
namespace {

using namespace ferry::sender_testing;  // NOLINT(google-build-using-namespace): the harness

// Plays the flow's spool and dead-letter file: records their labels and answers each write at once
// (delay_ms 0) or delay_ms later on the loop.
struct Kept {
  Lines spilled;
  Lines dead;
  std::string dead_code;
  bool spool_takes = true;
  bool dead_letters_take = true;
  std::uint64_t delay_ms = 0;
  int spills = 0;  // spill writes started
  std::function<void()> before_spill_done;

  void Attach(Harness& h) {
    loop = h.loop();
    h.sender_for_setup().set_safekeeping(
        [this](std::span<const WireRecord> records, Sender::KeepDone done) {
          ++spills;
          Answer([this, labels = Labels(records), done = std::move(done)] {
            if (before_spill_done) before_spill_done();
            if (!spool_takes) return done(Error(ErrorCode::kFull, "spool full"));
            spilled.insert(spilled.end(), labels.begin(), labels.end());
            done(Status::Ok());
          });
        },
        [this](std::span<const WireRecord> records, const std::string& code, const std::string&,
               Sender::KeepDone done) {
          Answer([this, labels = Labels(records), code, done = std::move(done)] {
            if (!dead_letters_take) return done(Error(ErrorCode::kIo, "disk failed"));
            dead.insert(dead.end(), labels.begin(), labels.end());
            dead_code = code;
            done(Status::Ok());
          });
        });
  }

 private:
  static Lines Labels(std::span<const WireRecord> records) {
    Lines labels;
    for (const auto& r : records) labels.push_back(LabelOf(r.data));
    return labels;
  }
  void Answer(std::function<void()> answer) {
    if (delay_ms == 0) {
      answer();
    } else {
      After(loop, delay_ms, std::move(answer));
    }
  }
  uv_loop_t* loop = nullptr;
};

TEST_CASE("A request that fails as a whole goes to the spool at once", "[sender][safekeeping]") {
  Harness h(SenderOptions{});
  Kept kept;
  kept.delay_ms = GENERATE(0u, 30u);  // the spool and dead letters answer at once, or later
  kept.Attach(h);
  h.endpoint.fail_request_once = {"A1"};
  h.Submit({h.Record("A", "A0"), h.Record("A", "A1"), h.Record("A", "A2")});
  h.Submit({h.Record("B", "B0")});
  CHECK(h.Run() == 0);
  CHECK(kept.spilled == Lines{"A0", "A1", "A2"});
  CHECK(h.endpoint.stored["A"].empty());
  CHECK(h.endpoint.stored["B"] == Lines{"B0"});
  CHECK(h.sender().counters().records_spooled == 3);
  CHECK(h.destination().sent.size() == 2);
  h.Finish();
}

TEST_CASE("Failed records get one retry from memory, then go to the spool", "[sender][safekeeping]") {
  SenderOptions options;
  options.backoff_base = Duration(5);
  Harness h(options);
  Kept kept;
  kept.delay_ms = GENERATE(0u, 30u);  // the spool and dead letters answer at once, or later
  kept.Attach(h);
  h.endpoint.fail_record_once = {"A1"};
  h.endpoint.fail_record_always = {"A2"};
  h.Submit({h.Record("A", "A0"), h.Record("A", "A1"), h.Record("A", "A2")});
  CHECK(h.Run(20000, 500) == 0);
  CHECK(h.endpoint.stored["A"] == Lines{"A0", "A1"});
  CHECK(kept.spilled == Lines{"A2"});
  CHECK(h.destination().sent.size() == 2);
  h.Finish();
}

TEST_CASE("Records from the spool are retried from memory, never spilled again", "[sender][safekeeping]") {
  SenderOptions options;
  options.backoff_base = Duration(5);
  Harness h(options);
  Kept kept;
  kept.delay_ms = GENERATE(0u, 30u);  // the spool and dead letters answer at once, or later
  kept.Attach(h);
  h.endpoint.fail_request_once = {"A0"};
  h.endpoint.fail_record_once = {"A1"};
  h.Submit({h.Record("A", "A0"), h.Record("A", "A1")}, /*spooled=*/true);
  // The retry of the failed request fails a record, whose retry then succeeds.
  CHECK(h.Run(20000, 500) == 0);
  CHECK(kept.spilled.empty());
  CHECK(h.endpoint.stored["A"] == Lines{"A0", "A1"});
  h.Finish();
}

TEST_CASE("A refused request is halved until the refused record is alone; it becomes a dead letter",
          "[sender][safekeeping]") {
  Harness h(SenderOptions{});
  Kept kept;
  kept.delay_ms = GENERATE(0u, 30u);  // the spool and dead letters answer at once, or later
  kept.Attach(h);
  h.endpoint.refuse = {"A2"};
  h.Submit({h.Record("A", "A0"), h.Record("A", "A1"), h.Record("A", "A2"), h.Record("A", "A3"),
            h.Record("A", "A4")});
  h.Submit({h.Record("A", "A5")});
  CHECK(h.Run() == 0);
  CHECK(kept.dead == Lines{"A2"});
  CHECK(kept.dead_code == "ValidationException");
  CHECK(kept.spilled.empty());
  Lines stored = h.endpoint.stored["A"];
  std::sort(stored.begin(), stored.end());
  CHECK(stored == Lines{"A0", "A1", "A3", "A4", "A5"});
  // 5 -> 2 + 3 -> (2 stored) 1 + 2 -> (A2 alone) ... at most 3 splits for 5 records.
  CHECK(h.sender().counters().requests_split >= 2);
  CHECK(h.sender().counters().requests_split <= 3);
  CHECK(h.sender().counters().records_dead_lettered == 1);
  h.Finish();
}

TEST_CASE("A drain spills what fails, lets spooled records go, and gives up the rest to their sources",
          "[sender][safekeeping]") {
  SenderOptions options;
  options.slow_retry = Duration(20000);  // a retry comes 10 to 20 s later: after the drain
  Harness h(options);
  Kept kept;
  kept.delay_ms = GENERATE(0u, 30u);  // the spool and dead letters answer at once, or later
  kept.spool_takes = false;           // full at first: the failed request waits in memory for its retry
  kept.Attach(h);
  h.endpoint.deny = {"A0"};
  h.Submit({h.Record("A", "A0")});
  h.Submit({h.Record("B", "B0")}, /*spooled=*/true);
  h.endpoint.fail_request_once.insert("B0");
  SECTION("the spool takes them at the drain") {
    kept.spool_takes = true;
  }
  SECTION("the spool refuses: the records are given up to their sources") {}
  // The drain starts before the answers arrive: both fail while it runs.
  const std::size_t undelivered = h.Run(1000);
  if (kept.spool_takes) {
    // A0 went to the spool on its failure; B0 came from the spool and was let go, so nothing is owed.
    CHECK(kept.spilled == Lines{"A0"});
    CHECK(undelivered == 0);
  } else {
    CHECK(kept.spilled.empty());
    CHECK(undelivered == 1);  // A0: still behind its source checkpoint
  }
  CHECK(h.destination().sent.size() == 2);  // nothing was retried
  h.Finish();
}

TEST_CASE("Records being spilled stay with the sender, unacknowledged, until the spool has them",
          "[sender][safekeeping]") {
  Harness h(SenderOptions{});
  Kept kept;
  kept.delay_ms = 100;
  kept.Attach(h);
  h.endpoint.fail_request_once = {"A0"};
  h.Submit({h.TrackedRecord("A", "A0"), h.TrackedRecord("A", "A1")});
  bool looked = false;
  kept.before_spill_done = [&] {
    looked = true;
    CHECK(h.acked().empty());
    CHECK(h.sender().keeping() == 1);
    CHECK(h.sender().unsent_user_records() == 2);
  };
  CHECK(h.Run() == 0);
  CHECK(looked);
  CHECK(kept.spilled == Lines{"A0", "A1"});
  CHECK(h.acked() == std::set<std::string>{"A0", "A1"});
  CHECK(h.sender().keeping() == 0);
  CHECK(h.sender().unsent_user_records() == 0);
  CHECK(h.sender().counters().records_spooled == 2);
  h.Finish();
}

TEST_CASE("A spill the spool refuses leaves the records in memory; they are retried and delivered",
          "[sender][safekeeping]") {
  SenderOptions options;
  options.backoff_base = Duration(5);
  Harness h(options);
  Kept kept;
  kept.delay_ms = GENERATE(0u, 50u);
  kept.spool_takes = false;
  kept.Attach(h);
  h.endpoint.fail_request_once = {"A0"};
  h.Submit({h.TrackedRecord("A", "A0")});
  CHECK(h.Run(20000, 500) == 0);
  CHECK(kept.spills == 1);
  CHECK(kept.spilled.empty());
  CHECK(h.endpoint.stored["A"] == Lines{"A0"});
  CHECK(h.acked() == std::set<std::string>{"A0"});
  CHECK(h.destination().sent.size() == 2);
  h.Finish();
}

TEST_CASE("A dead letter that cannot be written is spilled instead", "[sender][safekeeping]") {
  Harness h(SenderOptions{});
  Kept kept;
  kept.delay_ms = GENERATE(0u, 30u);
  kept.dead_letters_take = false;
  kept.Attach(h);
  h.endpoint.refuse = {"A0"};
  h.Submit({h.TrackedRecord("A", "A0")});
  CHECK(h.Run() == 0);
  CHECK(kept.dead.empty());
  CHECK(kept.spilled == Lines{"A0"});
  CHECK(h.acked() == std::set<std::string>{"A0"});
  CHECK(h.sender().counters().records_dead_lettered == 0);
  h.Finish();
}

TEST_CASE("A drain waits for a spill under way, also past its timeout", "[sender][safekeeping]") {
  Harness h(SenderOptions{});
  Kept kept;
  kept.delay_ms = 600;
  kept.Attach(h);
  h.endpoint.fail_request_once = {"A0"};
  h.Submit({h.TrackedRecord("A", "A0")});
  SECTION("the spool takes the records: nothing is owed") {}
  SECTION("the spool refuses them: they are given up to their sources") {
    kept.spool_takes = false;
  }
  const auto start = std::chrono::steady_clock::now();
  // The request fails at once; the drain times out after 300 ms, while the spill takes 600 ms.
  const std::size_t undelivered = h.Run(300);
  // The loop's clock is cached at millisecond grain, so the 600 ms spill may end a little before 600 ms
  // of wall time; what matters is that the drain outlived its own 300 ms timeout to wait for it.
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(550));
  CHECK(kept.spills == 1);
  if (kept.spool_takes) {
    CHECK(undelivered == 0);
    CHECK(h.acked() == std::set<std::string>{"A0"});
  } else {
    CHECK(undelivered == 1);
    CHECK(h.acked().empty());
  }
  CHECK(h.destination().sent.size() == 1);
  h.Finish();
}

}  // namespace
}  // namespace ferry
