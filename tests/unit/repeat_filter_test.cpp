// Tests of RepeatFilter (agent/core/repeat_filter), with a driven clock: the first line of a kind is
// written, repeats within the window are counted, the first after it carries the count; kinds are told
// apart by their key with runs of digits alike; memory stays bounded.
#include "agent/core/repeat_filter.h"

#include <catch2/catch.hpp>

#include <string>

namespace ferry {
namespace {

TEST_CASE("RepeatFilter: one line a window per kind, then a count of the rest", "[log]") {
  RepeatFilter filter(60'000);
  auto first = filter.Admit("AccessDeniedException denied", 1'000);
  REQUIRE(first);
  CHECK(first->empty());
  for (std::uint64_t t = 1'100; t < 61'000; t += 1'000)
    CHECK_FALSE(filter.Admit("AccessDeniedException denied", t));
  CHECK(filter.held_back() == 60);
  auto next = filter.Admit("AccessDeniedException denied", 61'000);
  REQUIRE(next);
  CHECK(*next == " (and 60 more like it in the last 60 s)");
  // A new window: held back again, and counted from zero.
  CHECK_FALSE(filter.Admit("AccessDeniedException denied", 61'500));
  auto later = filter.Admit("AccessDeniedException denied", 200'000);
  REQUIRE(later);
  CHECK(*later == " (and 1 more like it in the last 139 s)");
  // Nothing held back: no note.
  auto quiet = filter.Admit("AccessDeniedException denied", 300'000);
  REQUIRE(quiet);
  CHECK(quiet->empty());
}

TEST_CASE("RepeatFilter: other kinds are written; numbers alone do not make a kind", "[log]") {
  RepeatFilter filter(60'000);
  CHECK(filter.Admit("transport 127.0.0.1:4567: connect failed after 3 ms", 0));
  CHECK_FALSE(filter.Admit("transport 127.0.0.1:4567: connect failed after 1002 ms", 10));
  CHECK(filter.Admit("transport 127.0.0.1:4567: Connection reset by peer", 20));
  CHECK(filter.Admit("ResourceNotFoundException Stream web not found", 30));
  CHECK_FALSE(filter.Admit("ResourceNotFoundException Stream web not found", 40));
  CHECK(filter.held_back() == 2);
}

TEST_CASE("RepeatFilter: memory is bounded, and a kind it cannot remember is still written", "[log]") {
  RepeatFilter filter(60'000, 4);
  for (int i = 0; i < 4; ++i) CHECK(filter.Admit("kind " + std::string(1, static_cast<char>('a' + i)), 0));
  // Full, and nobody's window is over: new kinds are written, not remembered, so never held back.
  CHECK(filter.Admit("kind x", 1'000));
  CHECK(filter.Admit("kind x", 2'000));
  // A remembered kind is still held back.
  CHECK_FALSE(filter.Admit("kind a", 3'000));
  // Once windows are over, kinds that held nothing back make room.
  CHECK(filter.Admit("kind y", 70'000));
  CHECK_FALSE(filter.Admit("kind y", 71'000));
  // "kind a" held a line back, so it was kept: its count is not lost.
  auto a = filter.Admit("kind a", 72'000);
  REQUIRE(a);
  CHECK(*a == " (and 1 more like it in the last 72 s)");
}

}  // namespace
}  // namespace ferry
