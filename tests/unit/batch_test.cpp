// Tests of Batch, BatchRef, Arena, MemoryBudget and HeapTrimPolicy (agent/core): bump allocation, memory
// accounting, the one-time report of a finished batch, and reference counting.
#include "agent/core/batch.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "agent/core/arena.h"
#include "agent/core/heap_retention.h"
#include "agent/core/memory_budget.h"

namespace ferry {
namespace {

struct RecordingSink : AckSink {
  std::vector<std::tuple<SourceId, std::uint64_t, std::uint64_t>> calls;
  void OnBatchDone(SourceId source, std::uint64_t start, std::uint64_t end) override {
    calls.emplace_back(source, start, end);
  }
};

using Call = std::tuple<SourceId, std::uint64_t, std::uint64_t>;

void AddRecords(Batch& batch, int n) {
  for (int i = 0; i < n; ++i) {
    std::string text = "record " + std::to_string(i);
    batch.records().push_back({batch.arena().Copy(text), batch.start_offset() + 10 * (i + 1)});
  }
  batch.set_end_offset(batch.start_offset() + 10 * n);
}

// ---- Arena

TEST_CASE("Arena hands out consecutive bytes from one block", "[arena]") {
  Arena arena(64);
  CHECK(arena.capacity() == 0);
  char* a = arena.Allocate(10);
  CHECK(arena.capacity() == 64);
  char* b = arena.Allocate(3);
  char* c = arena.Allocate(51);  // fills the block exactly
  CHECK(b == a + 10);            // no alignment padding
  CHECK(c == a + 13);
  CHECK(arena.capacity() == 64);
  char* d = arena.Allocate(1);  // the next block
  CHECK(arena.capacity() == 128);
  CHECK((d < a || d >= a + 64));
  char* e = arena.Allocate(1);
  CHECK(e == d + 1);
}

TEST_CASE("Arena starts a new block when a request does not fit the rest", "[arena]") {
  Arena arena(64);
  char* a = arena.Allocate(60);
  char* b = arena.Allocate(5);  // 4 left: a fresh block, the tail is wasted
  CHECK(arena.capacity() == 128);
  CHECK((b < a || b >= a + 64));
  CHECK(arena.Allocate(59) == b + 5);
  CHECK(arena.capacity() == 128);
}

TEST_CASE("Arena gives a request larger than a block its own block", "[arena]") {
  Arena arena(64);
  char* small = arena.Allocate(10);
  char* big = arena.Allocate(100);
  CHECK(arena.capacity() == 164);
  CHECK((big + 100 <= small || big >= small + 64));
  // The current block keeps its tail for small requests.
  CHECK(arena.Allocate(5) == small + 10);
  CHECK(arena.capacity() == 164);
  // All the bytes are writable (ASan checks the bounds).
  std::fill(big, big + 100, 'x');
  std::fill(small, small + 15, 'y');
}

TEST_CASE("Arena's first request may be larger than a block", "[arena]") {
  Arena arena(64);
  char* big = arena.Allocate(1000);
  CHECK(arena.capacity() == 1000);
  std::fill(big, big + 1000, 'z');
  char* next = arena.Allocate(8);
  CHECK(arena.capacity() == 1064);
  CHECK((next + 8 <= big || next >= big + 1000));
}

TEST_CASE("Arena::Copy copies the bytes into the arena", "[arena]") {
  Arena arena(32);
  std::string source("a\0b\xff", 4);
  std::string_view copy = arena.Copy(source);
  CHECK(copy == source);
  CHECK(copy.size() == 4);
  CHECK(copy.data() != source.data());
  source[0] = 'X';  // the copy does not alias the original
  CHECK(copy == std::string_view("a\0b\xff", 4));

  std::string_view second = arena.Copy("hello");
  CHECK(second == "hello");
  CHECK(second.data() == copy.data() + 4);
  CHECK(arena.capacity() == 32);

  std::string long_text(100, 'q');
  CHECK(arena.Copy(long_text) == long_text);
  CHECK(arena.capacity() == 132);
}

TEST_CASE("Arena::Copy of nothing allocates nothing", "[arena]") {
  Arena arena(32);
  std::string_view empty = arena.Copy("");
  CHECK(empty.empty());
  CHECK(arena.capacity() == 0);
}

TEST_CASE("Arena charges its blocks to the budget and gives them back", "[arena][memory_budget]") {
  MemoryBudget budget(1 << 20);
  {
    Arena arena(64, &budget);
    CHECK(budget.used() == 0);
    arena.Allocate(10);
    CHECK(budget.used() == 64);
    arena.Allocate(54);
    CHECK(budget.used() == 64);
    arena.Allocate(100);
    CHECK(budget.used() == 164);
    arena.Allocate(1);
    CHECK(budget.used() == 228);
  }
  CHECK(budget.used() == 0);
}

// ---- MemoryBudget

TEST_CASE("MemoryBudget fits requests up to its limit", "[memory_budget]") {
  MemoryBudget budget(100);
  CHECK(budget.limit() == 100);
  CHECK(budget.Fits(100));
  CHECK(budget.Fits(1000));  // a lone oversize request fits an empty budget
  budget.Take(60);
  CHECK(budget.used() == 60);
  CHECK(budget.Fits(40));
  CHECK_FALSE(budget.Fits(41));
  budget.Give(60);
  CHECK(budget.used() == 0);
  CHECK(budget.Fits(1000));
}

TEST_CASE("MemoryBudget wakes waiters once usage falls to half after MarkStarved", "[memory_budget]") {
  MemoryBudget budget(100);
  int calls = 0;
  budget.AddWaiter([&] { ++calls; });
  budget.Take(100);
  budget.MarkStarved();
  budget.Give(40);  // 60 used: still more than half
  CHECK(calls == 0);
  budget.Give(10);  // 50 used: exactly half
  CHECK(calls == 1);
  budget.Give(10);  // no longer starved: no call
  CHECK(calls == 1);
  CHECK(budget.used() == 40);

  budget.MarkStarved();
  budget.Give(1);  // already below half: the next return wakes at once
  CHECK(calls == 2);
  budget.Give(1);
  CHECK(calls == 2);
}

TEST_CASE("MemoryBudget calls relievers once per starvation, and again after room came back",
          "[memory_budget]") {
  MemoryBudget budget(100);
  int relieved = 0;
  int woken = 0;
  const int id = budget.AddReliever([&] { ++relieved; });
  budget.AddWaiter([&] { ++woken; });
  budget.Take(100);
  budget.MarkStarved();
  CHECK(relieved == 1);
  budget.MarkStarved();  // a second source finding it spent: nothing new to relieve
  CHECK(relieved == 1);
  budget.Give(60);
  CHECK(woken == 1);
  budget.Take(60);
  budget.MarkStarved();
  CHECK(relieved == 2);
  budget.Give(100);
  budget.RemoveReliever(id);
  budget.Take(100);
  budget.MarkStarved();
  CHECK(relieved == 2);
  CHECK(woken == 2);
}

TEST_CASE("HeapTrimPolicy trims once the budget is idle after use, once per burst", "[memory_budget]") {
  MemoryBudget budget(100);
  HeapTrimPolicy policy;
  CHECK_FALSE(policy.Due(budget));  // never used: nothing to give back
  budget.Take(60);
  CHECK(budget.taken_total() == 60);
  CHECK_FALSE(policy.Due(budget));  // in use
  budget.Give(60);
  CHECK(policy.Due(budget));
  CHECK_FALSE(policy.Due(budget));  // idle since: once is enough
  budget.Take(10);
  budget.Give(10);
  CHECK(budget.taken_total() == 70);
  CHECK(policy.Due(budget));
}

TEST_CASE("MemoryBudget does not wake waiters unless starved", "[memory_budget]") {
  MemoryBudget budget(100);
  int calls = 0;
  budget.AddWaiter([&] { ++calls; });
  budget.Take(100);
  budget.Give(100);
  CHECK(calls == 0);
}

TEST_CASE("MemoryBudget calls every waiter once and RemoveWaiter stops one", "[memory_budget]") {
  MemoryBudget budget(10);
  std::vector<int> called;
  int a = budget.AddWaiter([&] { called.push_back(1); });
  int b = budget.AddWaiter([&] { called.push_back(2); });
  int c = budget.AddWaiter([&] { called.push_back(3); });
  CHECK(a != b);
  CHECK(b != c);
  CHECK(a != c);
  budget.Take(10);
  budget.MarkStarved();
  budget.Give(10);
  CHECK(called == std::vector<int>{1, 2, 3});

  called.clear();
  budget.RemoveWaiter(b);
  budget.Take(10);
  budget.MarkStarved();
  budget.Give(5);
  CHECK(called == std::vector<int>{1, 3});

  called.clear();
  budget.RemoveWaiter(a);
  budget.RemoveWaiter(c);
  budget.RemoveWaiter(12345);  // unknown ids are ignored
  budget.MarkStarved();
  budget.Give(5);
  CHECK(called.empty());
}

// ---- Batch

TEST_CASE("Batch reports exactly once when all sealed records are acked", "[batch]") {
  RecordingSink sink;
  BatchRef batch(new Batch(7, 100, &sink, 256, nullptr));
  AddRecords(*batch, 3);
  batch->Seal();
  CHECK(sink.calls.empty());
  batch->Ack(1);
  batch->Ack(1);
  CHECK(sink.calls.empty());
  batch->Ack(1);
  CHECK(sink.calls == std::vector<Call>{{7, 100, 130}});
  batch->Ack(1);  // more acks than records must not report again
  CHECK(sink.calls.size() == 1);
}

TEST_CASE("Batch counts acks that come before Seal", "[batch]") {
  RecordingSink sink;
  BatchRef batch(new Batch(1, 0, &sink, 256, nullptr));
  AddRecords(*batch, 3);
  batch->Ack(2);
  CHECK(sink.calls.empty());  // not sealed yet
  batch->Seal();
  CHECK(sink.calls.empty());
  batch->Ack(1);
  CHECK(sink.calls == std::vector<Call>{{1, 0, 30}});
}

TEST_CASE("Batch acked in full before Seal reports at Seal", "[batch]") {
  RecordingSink sink;
  BatchRef batch(new Batch(2, 50, &sink, 256, nullptr));
  AddRecords(*batch, 2);
  batch->Ack(2);
  CHECK(sink.calls.empty());
  batch->Seal();
  CHECK(sink.calls == std::vector<Call>{{2, 50, 70}});
  batch->Seal();
  CHECK(sink.calls.size() == 1);
}

TEST_CASE("Batch with no records reports at Seal", "[batch]") {
  RecordingSink sink;
  BatchRef batch(new Batch(3, 500, &sink, 256, nullptr));
  batch->set_end_offset(520);  // only empty lines were read
  batch->Seal();
  CHECK(sink.calls == std::vector<Call>{{3, 500, 520}});
  batch->Ack(0);
  CHECK(sink.calls.size() == 1);
}

TEST_CASE("Batch still counts records a stage removed", "[batch]") {
  RecordingSink sink;
  BatchRef batch(new Batch(4, 0, &sink, 256, nullptr));
  AddRecords(*batch, 4);
  batch->Seal();
  // A filter drops two records and acks them as it removes them.
  batch->records().erase(batch->records().begin(), batch->records().begin() + 2);
  batch->Ack(2);
  CHECK(batch->records().size() == 2);
  CHECK(sink.calls.empty());
  batch->Ack(2);
  CHECK(sink.calls == std::vector<Call>{{4, 0, 40}});
}

TEST_CASE("Batch without a sink finishes quietly", "[batch]") {
  BatchRef batch(new Batch(5, 0, nullptr, 256, nullptr));
  AddRecords(*batch, 1);
  batch->Seal();
  batch->Ack(1);
  CHECK(batch->records().size() == 1);
}

TEST_CASE("A batch built from other batches acknowledges its parents when it is done", "[batch]") {
  RecordingSink sink;
  BatchRef a(new Batch(1, 0, &sink, 64, nullptr));
  BatchRef b(new Batch(2, 100, &sink, 64, nullptr));
  AddRecords(*a, 3);
  AddRecords(*b, 2);
  a->Seal();
  b->Seal();
  BatchRef aggregate(new Batch(0, 0, nullptr, 64, nullptr));
  aggregate->AddParent(a.get(), 2);
  aggregate->AddParent(a.get(), 1);  // the same parent again: one entry
  aggregate->AddParent(b.get(), 2);
  aggregate->records().push_back({aggregate->arena().Copy("aggregate"), 0});
  aggregate->Seal();
  a = BatchRef();  // only the aggregate keeps the parents alive now
  b = BatchRef();
  CHECK(sink.calls.empty());
  aggregate->Ack(1);
  CHECK(sink.calls == std::vector<Call>{{1, 0, 30}, {2, 100, 120}});
}

TEST_CASE("A batch freed before it is done leaves its parents unacknowledged", "[batch]") {
  RecordingSink sink;
  BatchRef a(new Batch(1, 0, &sink, 64, nullptr));
  AddRecords(*a, 2);
  a->Seal();
  {
    BatchRef aggregate(new Batch(0, 0, nullptr, 64, nullptr));
    aggregate->AddParent(a.get(), 2);
    aggregate->records().push_back({aggregate->arena().Copy("x"), 0});
    aggregate->Seal();
  }
  CHECK(sink.calls.empty());
  a->Ack(2);  // the records are acknowledged some other way (sent again)
  CHECK(sink.calls == std::vector<Call>{{1, 0, 20}});
}

TEST_CASE("Batch keeps its identity and records", "[batch]") {
  BatchRef batch(new Batch(9, 1234, nullptr, 256, nullptr));
  CHECK(batch->source() == 9);
  CHECK(batch->start_offset() == 1234);
  CHECK(batch->end_offset() == 1234);
  AddRecords(*batch, 2);
  CHECK(batch->end_offset() == 1254);
  REQUIRE(batch->records().size() == 2);
  CHECK(batch->records()[0].data == "record 0");
  CHECK(batch->records()[0].end_offset == 1244);
  CHECK(batch->records()[1].data == "record 1");
  CHECK(batch->records()[1].end_offset == 1254);
}

// ---- BatchRef and the budget

TEST_CASE("Batch's arena is charged to the budget until the batch is freed", "[batch][memory_budget]") {
  MemoryBudget budget(1 << 20);
  {
    BatchRef batch(new Batch(1, 0, nullptr, 1024, &budget));
    CHECK(budget.used() == 0);
    batch->arena().Copy("hello");
    CHECK(budget.used() == 1024);
    batch->arena().Allocate(5000);
    CHECK(budget.used() == 6024);
  }
  CHECK(budget.used() == 0);
}

TEST_CASE("BatchRef copies share the batch and the last one frees it", "[batch]") {
  MemoryBudget budget(1 << 20);
  auto* raw = new Batch(1, 0, nullptr, 100, &budget);
  raw->arena().Allocate(1);
  REQUIRE(budget.used() == 100);

  BatchRef a(raw);
  CHECK(a.get() == raw);
  CHECK(static_cast<bool>(a));
  {
    BatchRef b = a;  // copy
    CHECK(b.get() == raw);
    BatchRef c(b);
    CHECK(c.get() == raw);
  }
  CHECK(budget.used() == 100);  // a still holds it
  {
    BatchRef d;
    d = a;  // copy assignment
    CHECK(d.get() == raw);
    a = BatchRef();  // drop the original
    CHECK_FALSE(a);
    CHECK(budget.used() == 100);
    CHECK(d->source() == 1);
  }
  CHECK(budget.used() == 0);
}

TEST_CASE("BatchRef move transfers the reference without counting", "[batch]") {
  MemoryBudget budget(1 << 20);
  auto* raw = new Batch(2, 0, nullptr, 100, &budget);
  raw->arena().Allocate(1);
  BatchRef a(raw);
  BatchRef b(std::move(a));
  CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  CHECK(a.get() == nullptr);
  CHECK(b.get() == raw);
  BatchRef c;
  c = std::move(b);
  CHECK_FALSE(b);  // NOLINT(bugprone-use-after-move)
  CHECK(c.get() == raw);
  CHECK(budget.used() == 100);
  std::vector<BatchRef> many;
  for (int i = 0; i < 50; ++i) many.push_back(c);  // vector growth moves them around
  c = BatchRef();
  CHECK(budget.used() == 100);
  many.erase(many.begin(), many.begin() + 49);
  CHECK(budget.used() == 100);
  many.clear();
  CHECK(budget.used() == 0);
}

TEST_CASE("BatchRef self-assignment and reassignment keep counts right", "[batch]") {
  MemoryBudget budget(1 << 20);
  BatchRef a(new Batch(1, 0, nullptr, 100, &budget));
  a->arena().Allocate(1);
  BatchRef b(new Batch(2, 0, nullptr, 30, &budget));
  b->arena().Allocate(1);
  CHECK(budget.used() == 130);
  BatchRef& alias = a;
  a = alias;
  CHECK(budget.used() == 130);
  CHECK(a->source() == 1);
  a = b;  // the first batch is freed, the second is shared
  CHECK(budget.used() == 30);
  CHECK(a.get() == b.get());
  b = BatchRef();
  CHECK(budget.used() == 30);
  a = BatchRef();
  CHECK(budget.used() == 0);
}

TEST_CASE("An empty BatchRef is false and harmless", "[batch]") {
  BatchRef empty;
  CHECK_FALSE(empty);
  CHECK(empty.get() == nullptr);
  BatchRef copy = empty;
  CHECK_FALSE(copy);
  BatchRef from_null(nullptr);
  CHECK_FALSE(from_null);
}

TEST_CASE("Freeing a batch wakes a starved budget", "[batch][memory_budget]") {
  MemoryBudget budget(1000);
  int wakes = 0;
  int id = budget.AddWaiter([&] { ++wakes; });
  BatchRef first(new Batch(1, 0, nullptr, 600, &budget));
  first->arena().Allocate(1);
  BatchRef second(new Batch(1, 0, nullptr, 400, &budget));
  second->arena().Allocate(1);
  CHECK_FALSE(budget.Fits(1));
  budget.MarkStarved();
  second = BatchRef();  // 600 used: more than half
  CHECK(wakes == 0);
  first = BatchRef();
  CHECK(wakes == 1);
  CHECK(budget.used() == 0);
  budget.RemoveWaiter(id);
}

}  // namespace
}  // namespace ferry
