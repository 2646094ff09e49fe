// Tests of the checkpoint store's two files (agent/checkpoint/checkpoint_store): the durable <flow>.json and
// the recent <flow>.json.recent written without fsync. The newer valid one by sequence is loaded; a recent
// file damaged as a power loss leaves it is passed over; only a damaged recent file is an error, never a
// first start; a recent write still replaces its file atomically. Tests run on one thread.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "agent/checkpoint/checkpoint_store.h"
#include "tests/unit/file_text.h"
#include "tests/unit/scratch_dir.h"

namespace ferry {
namespace {

using testing::Names;
using testing::ReadAll;
using testing::WriteFile;

namespace fs = std::filesystem;

class TempDir : public ferry::testing::ScratchDir {
 public:
  TempDir() : ferry::testing::ScratchDir("ferry-checkpoints-recent") {}
};

TEST_CASE("A file without a sequence (an earlier version's) reads as sequence 0", "[checkpoint_store]") {
  auto parsed = ParseCheckpoints(R"({"version": 1, "flow": "web", "files": []})", "x");
  REQUIRE(parsed.ok());
  CHECK(parsed->sequence == 0);
  auto wrong = ParseCheckpoints(R"({"version": 1, "flow": "web", "sequence": -1, "files": []})", "x");
  REQUIRE_FALSE(wrong.ok());
  CHECK_THAT(wrong.error().message(), Catch::Contains("sequence: expected an unsigned integer"));
}

TEST_CASE("LoadLatestCheckpoints takes the valid file with the higher sequence", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  const std::string recent = RecentCheckpointPath(path);
  CHECK(recent == path + ".recent");
  CheckpointSet older{"web", {{1, 2, {3, 4}, "/a", 10, 100}}, 7};
  CheckpointSet newer{"web", {{1, 2, {3, 4}, "/a", 20, 200}}, 8};

  auto none = LoadLatestCheckpoints(path);
  REQUIRE(none.ok());
  CHECK_FALSE(none->set.has_value());  // the first start

  REQUIRE(WriteCheckpointFile(path, SerializeCheckpoints(older), true).ok());
  REQUIRE(WriteCheckpointFile(recent, SerializeCheckpoints(newer), false).ok());
  auto latest = LoadLatestCheckpoints(path);
  REQUIRE(latest.ok());
  CHECK(latest->set == newer);
  CHECK(latest->read_from == recent);
  CHECK(latest->recent_problem.empty());

  // A durable write after it: the recent file is older now and passed over without a word.
  CheckpointSet durable{"web", {{1, 2, {3, 4}, "/a", 30, 300}}, 9};
  REQUIRE(WriteCheckpointFile(path, SerializeCheckpoints(durable), true).ok());
  latest = LoadLatestCheckpoints(path);
  REQUIRE(latest.ok());
  CHECK(latest->set == durable);
  CHECK(latest->read_from == path);
  CHECK(latest->recent_problem.empty());

  // Equal sequences: the durable file.
  REQUIRE(WriteCheckpointFile(recent, SerializeCheckpoints(CheckpointSet{"web", {}, 9}), false).ok());
  latest = LoadLatestCheckpoints(path);
  REQUIRE(latest.ok());
  CHECK(latest->read_from == path);
}

TEST_CASE("A recent file damaged by a power loss is passed over for the durable one", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  CheckpointSet durable{"web", {{1, 2, {3, 4}, "/a", 10, 100}}, 3};
  REQUIRE(SaveCheckpoints(path, durable).ok());
  for (std::string_view damage : {std::string_view(""), std::string_view("{\"version\": 1, \"flow\": \"we"),
                                  std::string_view("\0\0\0\0", 4)}) {
    WriteFile(RecentCheckpointPath(path), damage);
    auto latest = LoadLatestCheckpoints(path);
    REQUIRE(latest.ok());
    CHECK(latest->set == durable);
    CHECK(latest->read_from == path);
    CHECK_THAT(latest->recent_problem, Catch::Contains(RecentCheckpointPath(path)));
  }
}

TEST_CASE("Only a damaged recent file is an error, never a first start", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  WriteFile(RecentCheckpointPath(path), "");
  auto latest = LoadLatestCheckpoints(path);
  REQUIRE_FALSE(latest.ok());
  CHECK(latest.error().code() == ErrorCode::kProtocol);
  CHECK_THAT(latest.error().message(),
             Catch::Contains(RecentCheckpointPath(path)) && Catch::Contains(path + " does not exist"));
}

TEST_CASE("A damaged durable file with a valid recent one gives the recent one and the error to report",
          "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  CheckpointSet recent{"web", {{1, 2, {3, 4}, "/a", 10, 100}}, 3};
  WriteFile(path, "garbage");
  REQUIRE(WriteCheckpointFile(RecentCheckpointPath(path), SerializeCheckpoints(recent), false).ok());
  auto latest = LoadLatestCheckpoints(path);
  REQUIRE(latest.ok());
  CHECK(latest->set == recent);
  REQUIRE(latest->durable_error.has_value());
  CHECK(latest->durable_error->code() == ErrorCode::kProtocol);
  CHECK_THAT(latest->durable_error->message(), Catch::Contains(path));

  // Without the recent one, the durable file's error.
  ::unlink(RecentCheckpointPath(path).c_str());
  auto only = LoadLatestCheckpoints(path);
  REQUIRE_FALSE(only.ok());
  CHECK(only.error().code() == ErrorCode::kProtocol);
}

TEST_CASE("WriteCheckpointFile without fsync still replaces the file atomically", "[checkpoint_store]") {
  TempDir dir;
  std::string file = RecentCheckpointPath(dir / "deeper/web.json");
  REQUIRE(WriteCheckpointFile(file, "one\n", false).ok());
  struct stat before;
  REQUIRE(::stat(file.c_str(), &before) == 0);
  REQUIRE(WriteCheckpointFile(file, "two\n", false).ok());
  struct stat after;
  REQUIRE(::stat(file.c_str(), &after) == 0);
  CHECK(before.st_ino != after.st_ino);  // renamed over, never rewritten in place
  CHECK(ReadAll(file) == "two\n");
  CHECK(Names(dir / "deeper") == std::vector<std::string>{"web.json.recent"});
}

}  // namespace
}  // namespace ferry
