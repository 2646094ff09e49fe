// Tests of DeliveryPath (agent/delivery/delivery_path) with a real spool and dead-letter file whose sync
// step is slowed down (a test hook that sleeps on the pool thread, as a slow SD card would), against the
// PutRecords-like endpoint of sender_harness.h: the loop is not blocked while a spill and a dead-letter
// write are under way (a 10 ms timer is never late by anything near the sync's time); in on_failure mode,
// a request collected while a spill is being written goes to the spool behind it, so records reach the
// endpoint in the order they were read; in always mode a record is acknowledged only once its entry is
// durable, a drain waits for that write, also past its timeout, and an append that fails sends the
// records directly instead. Single-threaded apart from the pool threads the writers use.
#include "agent/delivery/delivery_path.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>
#include <utility>

#include "tests/unit/loop_lateness.h"
#include "tests/unit/scratch_dir.h"
#include "tests/unit/sender_harness.h"
#include "tests/unit/signed_request_test_support.h"
#include "tests/unit/slow_sync.h"

namespace ferry {
namespace {

using namespace ferry::sender_testing;  // NOLINT(google-build-using-namespace): the harness
using ferry::testing::FixedClock;
using ferry::testing::LoopLateness;
using ferry::testing::ScratchDir;

using ferry::testing::SlowSync;

// A DeliveryPath with a spool and dead letters in a scratch folder, on its own loop.
class PathHarness {
 public:
  // spool_max_bytes, budget (may be null): the spool's max_bytes and the flow's memory budget.
  PathHarness(bool always, SlowSync spool_sync, SlowSync dead_letter_sync, SenderOptions options = {},
              std::uint64_t spool_max_bytes = 1 << 30, MemoryBudget* budget = nullptr)
      : log_("delivery-path-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_)) {
    EnsureCurlGlobalInit();
    REQUIRE(uv_loop_init(&loop_) == 0);
    server_ =
        std::make_unique<TestServer>(&loop_, [this](const std::string& body, TestServer::Respond respond) {
          endpoint.Handle(&loop_, body, std::move(respond));
        });
    REQUIRE(server_->error() == 0);
    http_ = std::make_unique<net::HttpClient>(&loop_, net::HttpClientOptions{});
    auto opened = spool::Spool::Open(&loop_, dir_ / "spool", spool_max_bytes, "flow test", log_, clock_,
                                     budget, spool_sync.Hook());
    REQUIRE(opened.ok());
    spool = opened->get();
    Safekeeping keep;
    keep.flow = "test";
    keep.spool_always = always;
    keep.budget = budget;
    keep.spool = std::move(*opened);
    keep.dead_letters = std::make_unique<DeadLetterWriter>(
        &loop_, dir_ / "dead-letter", "test", [] { return std::int64_t{0}; }, dead_letter_sync.Hook());
    dead_letters = keep.dead_letters.get();
    options.backoff_base = Duration(5);
    path_ = std::make_unique<DeliveryPath>(
        &loop_, log_, *http_, std::make_unique<TestDestination>(&loop_, server_->port()), Compression::kNone,
        RequestLimits{}, Duration(1000), options, std::move(keep));
  }
  PathHarness(const PathHarness&) = delete;
  PathHarness& operator=(const PathHarness&) = delete;
  ~PathHarness() {
    if (!finished_) {
      // A REQUIRE failed with handles open: leak rather than destroy what the loop still uses.
      (void)path_.release();
      (void)http_.release();
      (void)server_.release();
      return;
    }
    uv_run(&loop_, UV_RUN_DEFAULT);  // handles the test closed after Run (a LoopLateness)
    path_.reset();
    http_.reset();
    server_.reset();
    CHECK(uv_loop_close(&loop_) == 0);
  }

  uv_loop_t* loop() { return &loop_; }
  std::string log_text() const { return log_text_.str(); }
  // Collects one record and sends the request at once.
  void Send(const std::string& label) {
    path_->collector().Add(records.Make("", label));
    path_->collector().FlushNow();
  }

  // Runs the loop, calling step every 5 ms until it returns true; then drains with drain_timeout_ms and
  // closes everything. Returns what the drain gave up. Fails the test if that takes more than 30 s.
  std::size_t Run(std::function<bool()> step, std::uint64_t drain_timeout_ms = 20000) {
    std::optional<std::size_t> undelivered;
    uv_timer_t poll{};
    uv_timer_init(&loop_, &poll);
    struct Context {
      PathHarness* self;
      std::function<bool()> step;
      std::uint64_t timeout;
      std::optional<std::size_t>* undelivered;
    } context{this, std::move(step), drain_timeout_ms, &undelivered};
    poll.data = &context;
    uv_timer_start(
        &poll,
        [](uv_timer_t* t) {
          auto* c = static_cast<Context*>(t->data);
          if (!c->step()) return;
          uv_timer_stop(t);
          c->self->Drain(c->timeout, c->undelivered);
        },
        0, 5);
    uv_timer_t watchdog{};
    bool timed_out = false;
    uv_timer_init(&loop_, &watchdog);
    watchdog.data = &timed_out;
    uv_timer_start(
        &watchdog, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 30000, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog));
    while (!undelivered.has_value() && !timed_out && uv_run(&loop_, UV_RUN_ONCE) != 0) {
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&poll), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
    if (undelivered.has_value()) uv_run(&loop_, UV_RUN_DEFAULT);  // the closes and the disk jobs
    REQUIRE(undelivered.has_value());
    finished_ = true;
    return *undelivered;
  }

  Endpoint endpoint;
  TrackedRecords records;
  spool::Spool* spool = nullptr;             // owned by the path
  DeadLetterWriter* dead_letters = nullptr;  // owned by the path

 private:
  void Drain(std::uint64_t timeout_ms, std::optional<std::size_t>* undelivered) {
    path_->Drain(Duration(timeout_ms), [this, undelivered](std::size_t n) {
      *undelivered = n;
      http_->Close([this] { path_->Close([this] { server_->Close(); }); });
    });
  }

  ScratchDir dir_{"ferry-delivery-path"};
  std::ostringstream log_text_;
  FixedClock clock_;
  uv_loop_t loop_{};
  spdlog::logger log_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<DeliveryPath> path_;
  bool finished_ = false;
};

bool Has(const std::set<std::string>& set, const std::string& label) {
  return set.count(label) > 0;
}

TEST_CASE("The loop is not blocked while a spill and a dead-letter write are under way",
          "[delivery][spool][slow_disk]") {
  SlowSync spool_sync{300};
  SlowSync dead_letter_sync{300};
  PathHarness h(/*always=*/false, spool_sync, dead_letter_sync);
  h.endpoint.fail_request_once = {"A0"};  // whole request fails: spilled
  h.endpoint.refuse = {"B0"};             // refused for good: a dead letter
  LoopLateness lateness(h.loop());
  h.Send("A0");
  h.Send("B0");
  // A0 comes back from the spool and is delivered; B0 is in the dead-letter file.
  CHECK(h.Run([&] { return !h.endpoint.stored[""].empty() && Has(h.records.acked(), "B0"); }) == 0);
  CHECK(h.records.acked() == std::set<std::string>{"A0", "B0"});
  INFO("the loop was late by up to " << lateness.max_late_ms() << " ms");
  CHECK(lateness.ticks() >= 10);
  CHECK(lateness.max_late_ms() < 150);
  CHECK(*spool_sync.calls >= 1);
  CHECK(*dead_letter_sync.calls >= 1);
  CHECK(h.spool->counters().entries_written == 1);
  CHECK(h.dead_letters->written() == 1);
  CHECK(h.endpoint.stored[""] == Lines{"A0"});
}

TEST_CASE("on_failure: what is collected while a spill is being written goes behind it, in read order",
          "[delivery][spool]") {
  SenderOptions options;
  options.max_in_flight = 1;
  PathHarness h(/*always=*/false, SlowSync{200}, SlowSync{}, options);
  h.endpoint.fail_request_once = {"A0"};
  h.Send("A0");
  bool sent_a1 = false;
  std::size_t undelivered = h.Run([&] {
    if (!sent_a1 && h.spool->appends_pending() > 0) {
      CHECK(h.spool->counters().entries_written == 0);  // A0's entry is not durable yet
      h.Send("A1");
      sent_a1 = true;
    }
    return h.endpoint.stored[""].size() >= 2;
  });
  CHECK(undelivered == 0);
  CHECK(h.endpoint.stored[""] == Lines{"A0", "A1"});
  CHECK(h.spool->counters().entries_written == 2);
  CHECK(h.records.acked() == std::set<std::string>{"A0", "A1"});
}

TEST_CASE("always: a record is acknowledged once its entry is durable, and a drain waits for that",
          "[delivery][spool]") {
  SlowSync spool_sync{400};
  PathHarness h(/*always=*/true, spool_sync, SlowSync{});
  h.Send("A0");
  CHECK(h.spool->appends_pending() == 1);
  const auto start = std::chrono::steady_clock::now();
  // The drain starts at once and times out after 50 ms; the write takes 400.
  CHECK(h.Run([] { return true; }, 50) == 0);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(400));
  CHECK(h.records.acked() == std::set<std::string>{"A0"});
  CHECK(h.spool->counters().entries_written == 1);
  CHECK(h.endpoint.stored[""].empty());  // replay stopped at the drain: it waits in the spool
}

TEST_CASE("always: an append that fails sends the records directly, acknowledged only when delivered",
          "[delivery][spool]") {
  SlowSync failing = SlowSync::AlwaysFailing(50);
  PathHarness h(/*always=*/true, failing, SlowSync{});
  h.Send("A0");
  bool unacked_while_writing = true;
  CHECK(h.Run([&] {
    if (h.spool->appends_pending() > 0 && !h.records.acked().empty()) unacked_while_writing = false;
    return Has(h.records.acked(), "A0");
  }) == 0);
  CHECK(unacked_while_writing);
  CHECK(h.endpoint.stored[""] == Lines{"A0"});
  CHECK(h.spool->counters().write_errors == 1);
  CHECK(h.spool->counters().entries_written == 0);
}

TEST_CASE("A spool that refused records says it takes them again once what it held is delivered",
          "[delivery][spool]") {
  // Room for one entry (a record of dots compresses to about 25 bytes); a budget so small that replay
  // hands out one entry at a time, and acknowledgements can come before the reader has found its
  // segment's end.
  MemoryBudget budget(1);
  PathHarness h(/*always=*/false, SlowSync{}, SlowSync{}, SenderOptions{}, 50, &budget);
  h.endpoint.hold_ms = 200;
  h.endpoint.fail_request_once = {"A0"};
  h.Send("A0");
  bool sent_a1 = false;
  CHECK(h.Run([&] {
    // A0 is in the spool (being replayed): A1 queues behind it, and the spool is full.
    if (!sent_a1 && h.spool->counters().entries_written == 1) {
      h.Send("A1");
      sent_a1 = true;
    }
    return h.endpoint.stored[""].size() >= 2 && h.spool->empty() && h.spool->idle();
  }) == 0);
  CHECK(h.spool->counters().full_refusals == 1);
  CHECK(h.records.acked() == std::set<std::string>{"A0", "A1"});
  const std::string log = h.log_text();
  INFO(log);
  CHECK(log.find("cannot write to the spool") != std::string::npos);
  CHECK(log.find("the spool takes records again") != std::string::npos);
}

TEST_CASE("Dead letters that cannot be written are logged once a minute with a count, not once each",
          "[delivery][dead_letter]") {
  SlowSync spool_sync{0};
  PathHarness h(/*always=*/false, spool_sync, SlowSync::AlwaysFailing(0));
  h.endpoint.refuse = {"B0", "B1", "B2", "B3"};
  for (const char* label : {"B0", "B1", "B2", "B3"}) h.Send(label);
  // Each refused record's dead letter fails; it is spilled instead, and the spool takes it.
  CHECK(h.Run([&] { return h.records.acked().size() == 4; }) == 0);
  const std::string log = h.log_text();
  std::size_t lines = 0;
  for (std::size_t at = log.find("cannot write dead letters"); at != std::string::npos;
       at = log.find("cannot write dead letters", at + 1)) {
    ++lines;
  }
  INFO(log);
  CHECK(lines == 1);
  CHECK(h.spool->counters().entries_written >= 1);
}

}  // namespace
}  // namespace ferry
