// Tests of DecodeTopKeys (agent/cli/top_keys.h): the bytes a terminal sends for ferry top's keys.
#include "agent/cli/top_keys.h"

#include <catch2/catch.hpp>

namespace ferry::cli {
namespace {

using Action = TopKey::Action;

TEST_CASE("DecodeTopKeys: letters, digits, Ctrl-C and arrows, in order", "[top]") {
  auto keys = DecodeTopKeys(
      "s3r?\x1b[C\x1bOD"
      "S\x03q");
  REQUIRE(keys.size() == 9);
  CHECK(keys[0].action == Action::kStepSort);
  CHECK(keys[0].step == 1);
  CHECK(keys[1].action == Action::kPickSort);
  CHECK(keys[1].column == TopSortKey::kSentRate);
  CHECK(keys[2].action == Action::kReverse);
  CHECK(keys[3].action == Action::kHelp);
  CHECK(keys[4].action == Action::kStepSort);
  CHECK(keys[4].step == 1);
  CHECK(keys[5].action == Action::kStepSort);
  CHECK(keys[5].step == -1);
  CHECK(keys[6].action == Action::kStepSort);
  CHECK(keys[6].step == -1);
  CHECK(keys[7].action == Action::kQuit);
  CHECK(keys[8].action == Action::kQuit);
}

TEST_CASE("DecodeTopKeys: every digit names its column; others, other bytes and sequences are ignored",
          "[top]") {
  auto keys = DecodeTopKeys("12345");
  REQUIRE(keys.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(keys[i].action == Action::kPickSort);
    CHECK(keys[i].column == static_cast<TopSortKey>(i));
  }
  CHECK(DecodeTopKeys("06x \n\x1b[A\x1b[B\x1b").empty());
}

}  // namespace
}  // namespace ferry::cli
