// Tests of Watermark and AckTracker (agent/checkpoint): the committed offset advances only over the
// contiguous finished prefix, whatever order ranges finish in.
#include "agent/checkpoint/watermark.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "agent/checkpoint/ack_tracker.h"

namespace ferry {
namespace {

TEST_CASE("Watermark starts at its start offset", "[watermark]") {
  CHECK(Watermark().committed() == 0);
  CHECK(Watermark(4096).committed() == 4096);
  CHECK(Watermark(4096).gaps() == 0);
}

TEST_CASE("Ranges finished in order advance the watermark", "[watermark]") {
  Watermark w(100);
  w.Finish(100, 150);
  CHECK(w.committed() == 150);
  w.Finish(150, 151);
  CHECK(w.committed() == 151);
  w.Finish(151, 4000);
  CHECK(w.committed() == 4000);
  CHECK(w.gaps() == 0);
}

TEST_CASE("A range after a gap waits for the gap to close", "[watermark]") {
  Watermark w(0);
  w.Finish(10, 20);
  CHECK(w.committed() == 0);
  CHECK(w.gaps() == 1);
  w.Finish(30, 40);
  w.Finish(50, 60);
  CHECK(w.committed() == 0);
  CHECK(w.gaps() == 3);
  w.Finish(0, 10);
  CHECK(w.committed() == 20);
  CHECK(w.gaps() == 2);
  w.Finish(20, 30);
  CHECK(w.committed() == 40);
  CHECK(w.gaps() == 1);
  w.Finish(40, 50);
  CHECK(w.committed() == 60);
  CHECK(w.gaps() == 0);
}

TEST_CASE("An empty range after a gap does not hide the range that starts where it does", "[watermark]") {
  // A read in the middle of a long line consumes nothing: its batch is empty and finishes at once, while
  // the batch before it (the line's first piece) is still being sent.
  Watermark w(0);
  w.Finish(100, 100);
  w.Finish(100, 200);
  CHECK(w.gaps() == 1);
  w.Finish(0, 100);
  CHECK(w.committed() == 200);
  CHECK(w.gaps() == 0);
  // The other order too.
  Watermark v(0);
  v.Finish(100, 200);
  v.Finish(100, 100);
  v.Finish(0, 100);
  CHECK(v.committed() == 200);
}

TEST_CASE("Stale ranges before the watermark are ignored", "[watermark]") {
  Watermark w(100);
  w.Finish(50, 80);
  CHECK(w.committed() == 100);
  w.Finish(0, 100);
  CHECK(w.committed() == 100);
  w.Finish(100, 100);  // empty range
  CHECK(w.committed() == 100);
  CHECK(w.gaps() == 0);
  w.Finish(120, 130);
  w.Finish(60, 90);
  CHECK(w.committed() == 100);
  CHECK(w.gaps() == 1);
}

TEST_CASE("A range finished twice while waiting counts once", "[watermark]") {
  Watermark w(0);
  w.Finish(10, 20);
  w.Finish(10, 20);
  CHECK(w.gaps() == 1);
  w.Finish(0, 10);
  CHECK(w.committed() == 20);
  CHECK(w.gaps() == 0);
  w.Finish(10, 20);  // now stale
  CHECK(w.committed() == 20);
  CHECK(w.gaps() == 0);
}

TEST_CASE("A range straddling the watermark advances it to its end", "[watermark]") {
  Watermark w(100);
  w.Finish(50, 150);
  CHECK(w.committed() == 150);
  CHECK(w.gaps() == 0);

  // It also releases ranges that were waiting for it.
  w.Finish(200, 250);
  w.Finish(140, 200);
  CHECK(w.committed() == 250);
  CHECK(w.gaps() == 0);
}

TEST_CASE("Every finishing order of five ranges ends at the same offset, never passing a gap",
          "[watermark]") {
  const std::uint64_t start = 1000;
  const std::array<std::pair<std::uint64_t, std::uint64_t>, 5> ranges = {
      {{1000, 1010}, {1010, 1025}, {1025, 1026}, {1026, 1400}, {1400, 9000}}};
  std::array<int, 5> order = {0, 1, 2, 3, 4};
  int permutations = 0;
  do {
    ++permutations;
    Watermark w(start);
    std::array<bool, 5> done{};
    for (int step = 0; step < 5; ++step) {
      int i = order[step];
      w.Finish(ranges[i].first, ranges[i].second);
      done[i] = true;
      // Expected: the end of the longest finished prefix; everything else is a gap.
      std::uint64_t expected = start;
      std::size_t prefix = 0;
      while (prefix < 5 && done[prefix]) expected = ranges[prefix++].second;
      std::size_t finished = static_cast<std::size_t>(std::count(done.begin(), done.end(), true));
      INFO("order " << order[0] << order[1] << order[2] << order[3] << order[4] << " step " << step);
      REQUIRE(w.committed() == expected);
      REQUIRE(w.gaps() == finished - prefix);
      for (std::size_t j = 0; j < 5; ++j) {
        if (!done[j]) REQUIRE(w.committed() <= ranges[j].first);
      }
    }
    REQUIRE(w.committed() == 9000);
    REQUIRE(w.gaps() == 0);
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(permutations == 120);
}

TEST_CASE("AckTracker gives each opened source its own id", "[ack_tracker]") {
  AckTracker tracker;
  std::set<SourceId> ids;
  for (int i = 0; i < 100; ++i) ids.insert(tracker.Open(static_cast<std::uint64_t>(i)));
  CHECK(ids.size() == 100);
  CHECK(ids.count(0) == 0);
  // Ids are not reused after Close.
  SourceId first = *ids.begin();
  tracker.Close(first);
  SourceId next = tracker.Open(0);
  CHECK(ids.count(next) == 0);
}

TEST_CASE("AckTracker routes finished ranges to their source", "[ack_tracker]") {
  AckTracker tracker;
  SourceId a = tracker.Open(0);
  SourceId b = tracker.Open(500);
  CHECK(tracker.committed(a) == 0);
  CHECK(tracker.committed(b) == 500);

  tracker.OnBatchDone(b, 600, 700);
  CHECK(tracker.committed(b) == 500);
  tracker.OnBatchDone(a, 0, 100);
  CHECK(tracker.committed(a) == 100);
  CHECK(tracker.committed(b) == 500);
  tracker.OnBatchDone(b, 500, 600);
  CHECK(tracker.committed(b) == 700);
  CHECK(tracker.committed(a) == 100);
}

TEST_CASE("AckTracker ignores batches of a closed source", "[ack_tracker]") {
  AckTracker tracker;
  SourceId a = tracker.Open(10);
  tracker.OnBatchDone(a, 10, 20);
  CHECK(tracker.committed(a) == 20);
  tracker.Close(a);
  CHECK(tracker.committed(a) == 0);
  tracker.OnBatchDone(a, 20, 30);  // a late batch must not bring the source back
  CHECK(tracker.committed(a) == 0);
}

TEST_CASE("AckTracker reports 0 for an unknown source", "[ack_tracker]") {
  AckTracker tracker;
  CHECK(tracker.committed(0) == 0);
  CHECK(tracker.committed(42) == 0);
  tracker.OnBatchDone(42, 0, 100);
  CHECK(tracker.committed(42) == 0);
}

TEST_CASE("AckTracker advances when a batch's records are all acknowledged", "[ack_tracker]") {
  AckTracker tracker;
  SourceId id = tracker.Open(0);
  BatchRef first(new Batch(id, 0, &tracker, 256, nullptr));
  BatchRef second(new Batch(id, 40, &tracker, 256, nullptr));
  first->records().push_back({first->arena().Copy("a"), 20});
  first->records().push_back({first->arena().Copy("b"), 40});
  first->set_end_offset(40);
  first->Seal();
  second->records().push_back({second->arena().Copy("c"), 90});
  second->set_end_offset(90);
  second->Seal();

  second->Ack(1);
  CHECK(tracker.committed(id) == 0);
  first->Ack(1);
  CHECK(tracker.committed(id) == 0);
  first->Ack(1);
  CHECK(tracker.committed(id) == 90);
}

TEST_CASE("An AckTracker group hears how far its watermarks move, and nothing else", "[ack_tracker]") {
  AckTracker tracker;
  std::vector<std::uint64_t> heard;
  AckGroup group = tracker.OpenGroup([&](std::uint64_t bytes) { heard.push_back(bytes); });
  SourceId a = tracker.Open(0, group);
  SourceId b = tracker.Open(100, group);
  SourceId loner = tracker.Open(0);

  tracker.OnBatchDone(a, 50, 80);  // a gap: the watermark does not move
  CHECK(heard.empty());
  tracker.OnBatchDone(a, 0, 50);  // closes the gap: 0 -> 80
  tracker.OnBatchDone(b, 100, 110);
  tracker.OnBatchDone(a, 20, 40);  // already finished: nothing moves
  tracker.OnBatchDone(loner, 0, 1000);
  CHECK(heard == std::vector<std::uint64_t>{80, 10});

  tracker.CloseGroup(group);
  tracker.OnBatchDone(b, 110, 120);
  CHECK(heard.size() == 2);
  CHECK(tracker.committed(b) == 120);  // the sources stay open
}

TEST_CASE("An AckTracker group's listener may close the source it hears about", "[ack_tracker]") {
  AckTracker tracker;
  SourceId source = 0;
  AckGroup group = tracker.OpenGroup([&](std::uint64_t) { tracker.Close(source); });
  source = tracker.Open(0, group);
  tracker.OnBatchDone(source, 0, 10);
  CHECK(tracker.committed(source) == 0);  // closed
}

}  // namespace
}  // namespace ferry
