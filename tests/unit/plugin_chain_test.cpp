// Tests of PluginChain and PluginBatch (agent/pipeline): verdicts applied record by record (keep, replace,
// drop, fail under each on_error), drops and dead letters acknowledged so the source's range finishes,
// records without a verdict and misused verdicts treated as failures, batches leaving an asynchronous stage
// in arrival order whatever order the plugin answers in, max_in_flight respected, records grown past the
// output's limit dead-lettered, a failed dead-letter write leaving records unacknowledged, drain waiting
// for every batch, memory relief reaching the plugins, and the counters.
#include "agent/pipeline/plugin_chain.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace ferry {
namespace {

using Range = std::tuple<SourceId, std::uint64_t, std::uint64_t>;

struct RecordingAcks : AckSink {
  std::vector<Range> done;
  void OnBatchDone(SourceId source, std::uint64_t start, std::uint64_t end) override {
    done.emplace_back(source, start, end);
  }
};

// Keeps what reaches the output and acknowledges nothing unless asked.
struct CollectingSink : BatchSink {
  std::vector<BatchRef> batches;
  void Accept(BatchRef batch) override { batches.push_back(std::move(batch)); }
  std::vector<std::string> Texts() const {
    std::vector<std::string> out;
    for (const auto& b : batches) {
      for (const auto& r : b->records()) out.emplace_back(r.data);
    }
    return out;
  }
  void AckAll() {
    for (auto& b : batches) b->Ack(b->records().size());
    batches.clear();
  }
};

BatchRef MakeBatch(RecordingAcks& acks, SourceId source, std::uint64_t start,
                   const std::vector<std::string>& lines) {
  BatchRef batch(new Batch(source, start, &acks, 256, nullptr));
  std::uint64_t offset = start;
  for (const auto& line : lines) {
    offset += line.size() + 1;
    batch->records().push_back({batch->arena().Copy(line), offset});
  }
  batch->set_end_offset(offset);
  batch->Seal();
  return batch;
}

// Decides at once with a function of the record's text.
class SyncPlugin : public Plugin {
 public:
  explicit SyncPlugin(std::function<void(PluginBatch&, std::size_t, std::string_view)> decide)
      : decide_(std::move(decide)) {}
  void Process(PluginBatch& work) override {
    for (std::size_t i = 0; i < work.records().size(); ++i) decide_(work, i, work.records()[i].data);
    work.Done();
  }
  void Relieve() override { ++relieved; }
  int relieved = 0;

 private:
  std::function<void(PluginBatch&, std::size_t, std::string_view)> decide_;
};

// Holds batches until the test answers them, in any order.
class HeldPlugin : public Plugin {
 public:
  explicit HeldPlugin(std::size_t max) : max_(max) {}
  void Process(PluginBatch& work) override { held.push_back(&work); }
  std::size_t max_in_flight() const override { return max_; }
  void Answer(std::size_t index, const std::string& suffix) {
    PluginBatch* work = held[index];
    held[index] = nullptr;
    for (std::size_t i = 0; i < work->records().size(); ++i) {
      work->Replace(i, std::string(work->records()[i].data) + suffix);
    }
    work->Done();
  }
  std::vector<PluginBatch*> held;

 private:
  std::size_t max_;
};

struct DeadLetters {
  std::vector<std::tuple<std::string, std::string, std::string>> written;  // plugin, reason, data
  std::vector<std::string> codes;                                          // each written record's error code
  bool fail = false;
  bool hold = false;
  std::vector<std::function<void(Status)>> pending;
  RejectSink Sink() {
    return [this](std::vector<RejectedRecord> records, std::function<void(Status)> done) {
      for (const auto& r : records) {
        written.emplace_back(r.plugin, r.reason, r.data);
        codes.emplace_back(r.code);
      }
      Status outcome = fail ? Status(Error(ErrorCode::kIo, "disk full")) : Status::Ok();
      if (hold) {
        pending.push_back([done, outcome](Status) { done(outcome); });
      } else {
        done(outcome);
      }
    };
  }
};

TEST_CASE("PluginChain without plugins passes batches through", "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  PluginChain chain(out, 1 << 20, nullptr, nullptr);
  chain.Accept(MakeBatch(acks, 1, 0, {"a", "b"}));
  CHECK(out.Texts() == std::vector<std::string>{"a", "b"});
  CHECK(chain.in_flight() == 0);
}

TEST_CASE("PluginChain applies keep, replace and drop, and acknowledges drops", "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  PluginChain chain(out, 1 << 20, nullptr, nullptr);
  chain.Add({"test", std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view d) {
               if (d == "noise") {
                 w.Drop(i);
               } else if (d == "secret") {
                 w.Replace(i, "[REDACTED]");
               } else if (d == "empty me") {
                 w.Replace(i, "");
               } else {
                 w.Keep(i);
               }
             }),
             OnError::kPass});
  chain.Accept(MakeBatch(acks, 7, 100, {"one", "noise", "secret", "empty me", "two"}));
  REQUIRE(out.Texts() == std::vector<std::string>{"one", "[REDACTED]", "two"});
  CHECK(acks.done.empty());  // three records still out
  out.AckAll();
  // Drops (and the empty replacement, a drop) were acknowledged by the chain: the range finishes.
  REQUIRE(acks.done.size() == 1);
  CHECK(acks.done[0] == Range{7, 100, 100 + 4 + 6 + 7 + 9 + 4});
  const PluginCounters& c = chain.counters(0);
  CHECK(c.records_in == 5);
  CHECK(c.records_out == 3);
  CHECK(c.replaced == 1);
  CHECK(c.dropped == 2);
  CHECK(c.errored == 0);
  CHECK(chain.dropped() == 2);
}

TEST_CASE("PluginChain routes failures by on_error", "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  DeadLetters dead;
  auto fail_bad = [](PluginBatch& w, std::size_t i, std::string_view d) {
    if (d.starts_with("bad")) {
      w.Fail(i, "not JSON");
    } else {
      w.Keep(i);
    }
  };
  OnError mode = GENERATE(OnError::kPass, OnError::kDrop, OnError::kDeadLetter);
  PluginChain chain(out, 1 << 20, dead.Sink(), nullptr);
  chain.Add({"json", std::make_unique<SyncPlugin>(fail_bad), mode});
  chain.Accept(MakeBatch(acks, 1, 0, {"ok", "bad1", "bad2"}));
  CHECK(chain.counters(0).errored == 2);
  switch (mode) {
    case OnError::kPass:
      CHECK(out.Texts() == std::vector<std::string>{"ok", "bad1", "bad2"});
      CHECK(dead.written.empty());
      break;
    case OnError::kDrop:
      CHECK(out.Texts() == std::vector<std::string>{"ok"});
      CHECK(chain.counters(0).dropped == 2);
      break;
    case OnError::kDeadLetter:
      CHECK(out.Texts() == std::vector<std::string>{"ok"});
      REQUIRE(dead.written.size() == 2);
      CHECK(dead.written[0] == std::tuple<std::string, std::string, std::string>{"json", "not JSON", "bad1"});
      CHECK(chain.counters(0).dead_lettered == 2);
      break;
  }
  out.AckAll();
  CHECK(acks.done.size() == 1);  // whatever happened to the failures, the range finished
}

TEST_CASE("PluginChain gives dead letters the failure code the plugin chose, PluginError by default",
          "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  DeadLetters dead;
  dead.hold = true;
  PluginChain chain(out, 1 << 20, dead.Sink(), nullptr);
  chain.Add({"lambda", std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view) {
               if (i == 0) w.Fail(i, "Lambda.MissingRecordId", std::string("processing-failed"));
               if (i == 1) w.Fail(i, "not JSON");
               if (i == 2) w.Keep(i);
             }),
             OnError::kDeadLetter});
  chain.Accept(MakeBatch(acks, 1, 0, {"a", "b", "c"}));
  REQUIRE(dead.codes == std::vector<std::string>{"processing-failed", "PluginError"});
  CHECK(std::get<1>(dead.written[0]) == "Lambda.MissingRecordId");
  for (auto& done : dead.pending) done(Status::Ok());
  out.AckAll();
  CHECK(acks.done.size() == 1);
}

TEST_CASE("PluginChain treats records without a verdict, and misused verdicts, as failures",
          "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  DeadLetters dead;
  SECTION("a record left undecided") {
    PluginChain chain(out, 1 << 20, dead.Sink(), nullptr);
    chain.Add({"lazy", std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view) {
                 if (i == 0) w.Keep(i);
               }),
               OnError::kDeadLetter});
    chain.Accept(MakeBatch(acks, 1, 0, {"a", "b"}));
    CHECK(out.Texts() == std::vector<std::string>{"a"});
    REQUIRE(dead.written.size() == 1);
    CHECK(std::get<1>(dead.written[0]) == "the plugin gave no verdict");
  }
  SECTION("a record decided twice: no verdict of the batch is trusted") {
    PluginChain chain(out, 1 << 20, dead.Sink(), nullptr);
    chain.Add({"twice", std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view) {
                 w.Drop(i);
                 if (i == 1) w.Keep(i);
               }),
               OnError::kPass});
    chain.Accept(MakeBatch(acks, 1, 0, {"a", "b"}));
    CHECK(out.Texts() == std::vector<std::string>{"a", "b"});  // passed unchanged, nothing dropped
    CHECK(chain.counters(0).errored == 2);
    CHECK(chain.counters(0).dropped == 0);
  }
}

TEST_CASE("PluginChain keeps batch order through an asynchronous stage", "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  PluginChain chain(out, 1 << 20, nullptr, nullptr);
  auto held = std::make_unique<HeldPlugin>(2);
  HeldPlugin* plugin = held.get();
  chain.Add({"slow", std::move(held), OnError::kPass});
  chain.Add({"upper", std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view d) {
               std::span<char> buf = w.ReplaceBuffer(i, d.size());
               for (std::size_t k = 0; k < d.size(); ++k) buf[k] = static_cast<char>(std::toupper(d[k]));
             }),
             OnError::kPass});
  chain.Accept(MakeBatch(acks, 1, 0, {"a"}));
  chain.Accept(MakeBatch(acks, 1, 2, {"b"}));
  chain.Accept(MakeBatch(acks, 1, 4, {"c"}));
  REQUIRE(plugin->held.size() == 2);  // max_in_flight 2: the third waits in the chain
  CHECK(chain.in_flight() == 3);
  plugin->Answer(1, "2");  // the second answers first: it waits for the first
  CHECK(out.batches.empty());
  plugin->Answer(0, "1");
  CHECK(out.Texts() == std::vector<std::string>{"A1", "B2"});
  REQUIRE(plugin->held.size() == 3);  // the third was handed over once there was room
  bool drained = false;
  chain.Drain([&] { drained = true; });
  CHECK_FALSE(drained);
  plugin->Answer(2, "3");
  CHECK(out.Texts() == std::vector<std::string>{"A1", "B2", "C3"});
  CHECK(drained);
  CHECK(chain.counters(0).replaced == 3);
}

TEST_CASE("PluginChain dead-letters records the plugins made too long for the output", "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  DeadLetters dead;
  PluginChain chain(out, 10, dead.Sink(), nullptr);
  chain.Add({"grow", std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view d) {
               w.Replace(i, std::string(d) + (d == "long" ? "-----------" : ""));
             }),
             OnError::kPass});
  chain.Accept(MakeBatch(acks, 1, 0, {"short", "long"}));
  CHECK(out.Texts() == std::vector<std::string>{"short"});
  REQUIRE(dead.written.size() == 1);
  CHECK(std::get<0>(dead.written[0]) == "plugins");
  CHECK(std::get<1>(dead.written[0]) == "15 bytes after the plugins; the destination takes at most 10");
  CHECK(chain.counters().oversize_dead_lettered == 1);
  out.AckAll();
  CHECK(acks.done.size() == 1);
}

TEST_CASE("PluginChain leaves records unacknowledged when the dead-letter write fails", "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  DeadLetters dead;
  dead.fail = true;
  PluginChain chain(out, 1 << 20, dead.Sink(), nullptr);
  chain.Add({"json", std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view d) {
               if (d == "bad") {
                 w.Fail(i, "not JSON");
               } else {
                 w.Keep(i);
               }
             }),
             OnError::kDeadLetter});
  chain.Accept(MakeBatch(acks, 1, 0, {"ok", "bad"}));
  out.AckAll();
  CHECK(acks.done.empty());  // the failed record is neither sent nor acknowledged: the range stays open
  CHECK(chain.counters().dead_letter_failures == 1);
}

TEST_CASE("PluginChain drains only after pending dead-letter writes", "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  DeadLetters dead;
  dead.hold = true;
  PluginChain chain(out, 1 << 20, dead.Sink(), nullptr);
  chain.Add({"drop", std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view) {
               w.Fail(i, "no");
             }),
             OnError::kDeadLetter});
  chain.Accept(MakeBatch(acks, 1, 0, {"x"}));
  bool drained = false;
  chain.Drain([&] { drained = true; });
  CHECK_FALSE(drained);
  REQUIRE(dead.pending.size() == 1);
  dead.pending[0](Status::Ok());
  CHECK(drained);
  CHECK(acks.done.size() == 1);
}

TEST_CASE("PluginChain passes memory relief to its plugins and closes them", "[plugin_chain]") {
  RecordingAcks acks;
  CollectingSink out;
  MemoryBudget budget(100);
  PluginChain chain(out, 1 << 20, nullptr, &budget);
  auto plugin =
      std::make_unique<SyncPlugin>([](PluginBatch& w, std::size_t i, std::string_view) { w.Keep(i); });
  SyncPlugin* p = plugin.get();
  chain.Add({"keep", std::move(plugin), OnError::kPass});
  budget.MarkStarved();
  CHECK(p->relieved == 1);
  bool closed = false;
  chain.Close([&] { closed = true; });
  CHECK(closed);
}

}  // namespace
}  // namespace ferry
