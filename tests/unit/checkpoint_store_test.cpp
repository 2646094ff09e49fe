// Tests of the checkpoint store (agent/checkpoint/checkpoint_store): entries round-trip exactly (odd paths,
// 64-bit extremes), corrupt files give errors naming the path and the field, saves replace the file
// atomically and fail cleanly (read-only folder, parent is a file, full file system), and flow names
// become safe file names. The ENOSPC and read-only-mount cases need to mount a tmpfs (root); elsewhere
// they are skipped with a warning. Tests run on one thread.
#include "agent/checkpoint/checkpoint_store.h"
#include "tests/unit/file_text.h"
#include "tests/unit/scratch_dir.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry {
namespace {

using testing::Names;
using testing::ReadAll;
using testing::WriteFile;

namespace fs = std::filesystem;

// A scratch folder per test.
class TempDir : public ferry::testing::ScratchDir {
 public:
  TempDir() : ferry::testing::ScratchDir("ferry-checkpoints") {}
};

CheckpointSet OddSet() {
  constexpr auto kU64Max = std::numeric_limits<std::uint64_t>::max();
  CheckpointSet set;
  set.flow = "web \"prod\"/\xff";
  set.files.push_back(
      {2049, 131074, {1024, 0x0123456789abcdefull}, "/var/log/nginx/access.log", 4096, 1700000000});
  set.files.push_back({kU64Max,
                       kU64Max,
                       {kFingerprintBytes, kU64Max},
                       "/var/log/with space.log",
                       kU64Max,
                       std::numeric_limits<std::int64_t>::max()});
  set.files.push_back(
      {0, 0, {0, 0}, "/var/log/\"quoted\" and back\\slash.log", 0, std::numeric_limits<std::int64_t>::min()});
  set.files.push_back(
      {1, 2, {17, 0x8000000000000000ull}, "/var/log/new\nline\ttab\r\x01\x1f.log", 1ull << 63, -1});
  set.files.push_back(
      {3, 4, {5, 1}, std::string("/var/log/\xff\xfe\x80\xc3(not utf-8)\xed\xa0\x80.log"), 77, 0});
  set.files.push_back({5, 6, {6, 2}, "/var/log/\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80.log", 78, 1});
  set.files.push_back({7, 8, {7, 3}, "", 79, 2});
  return set;
}

TEST_CASE("Checkpoints round-trip exactly, odd paths and 64-bit extremes included", "[checkpoint_store]") {
  TempDir dir;
  std::string path = CheckpointPath(dir.path(), "web");
  CheckpointSet set = OddSet();
  REQUIRE(SaveCheckpoints(path, set).ok());
  auto loaded = LoadCheckpoints(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK(**loaded == set);
  for (std::size_t i = 0; i < set.files.size(); ++i) CHECK((*loaded)->files[i].path == set.files[i].path);

  // Bytes that are not UTF-8 are written as they are, not replaced or escaped.
  std::string text = ReadAll(path);
  CHECK(text.find("\xff\xfe\x80\xc3(not utf-8)\xed\xa0\x80") != std::string::npos);
  CHECK(text.find("\"version\": 1") != std::string::npos);
  CHECK(text.find("\"hash\": \"0123456789abcdef\"") != std::string::npos);
  CHECK(text.find("18446744073709551615") != std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("An empty set round-trips", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "empty.json";
  CheckpointSet set{"", {}};
  REQUIRE(SaveCheckpoints(path, set).ok());
  auto loaded = LoadCheckpoints(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK(**loaded == set);
}

TEST_CASE("Serialized sets parse back to the same set", "[checkpoint_store]") {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 200; ++round) {
    CheckpointSet set;
    set.flow.resize(rng() % 8);
    for (auto& c : set.flow) c = static_cast<char>(rng() % 255 + 1);
    set.files.resize(rng() % 5);
    for (auto& f : set.files) {
      f.dev = rng();
      f.ino = rng() >> (rng() % 64);
      f.fingerprint = {static_cast<std::uint32_t>(rng() % (kFingerprintBytes + 1)), rng()};
      f.path.resize(rng() % 40);
      for (auto& c : f.path) c = static_cast<char>(rng() % 255 + 1);  // any byte but NUL
      f.offset = rng();
      f.updated = static_cast<std::int64_t>(rng());
    }
    set.sequence = rng() >> (rng() % 64);
    std::string text = SerializeCheckpoints(set);
    auto parsed = ParseCheckpoints(text, "memory");
    REQUIRE(parsed.ok());
    CHECK(*parsed == set);
  }
}

TEST_CASE("A missing checkpoint file is the first start", "[checkpoint_store]") {
  TempDir dir;
  auto loaded = LoadCheckpoints(dir / "absent.json");
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded->has_value());
  // So is a missing folder (state_dir exists, checkpoints/ not yet).
  loaded = LoadCheckpoints(CheckpointPath(dir.path(), "web"));
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded->has_value());
}

// ---- corrupt files ----

using Fields = std::vector<std::pair<std::string, std::string>>;  // member -> raw JSON value

std::string ObjectText(const Fields& fields) {
  std::string out = "{";
  for (const auto& [key, value] : fields) {
    if (out.size() > 1) out += ", ";
    out += "\"" + key + "\": " + value;
  }
  return out + "}";
}

Fields GoodEntry() {
  return {{"dev", "1"},
          {"ino", "2"},
          {"fingerprint", R"({"length": 3, "hash": "00000000000000ff"})"},
          {"path", R"("/var/log/a.log")"},
          {"offset", "4"},
          {"updated", "5"}};
}

Fields GoodFingerprint() {
  return {{"length", "3"}, {"hash", R"("00000000000000ff")"}};
}

// Replaces a member's raw value, or removes the member when `value` is empty.
Fields With(Fields fields, const std::string& key, const std::string& value) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->first != key) continue;
    if (value.empty()) {
      fields.erase(it);
    } else {
      it->second = value;
    }
    return fields;
  }
  FAIL("no member " << key);
  return fields;
}

Fields GoodTop(const std::string& second_entry) {
  return {{"version", "1"},
          {"flow", R"("web")"},
          {"files", "[" + ObjectText(GoodEntry()) + ", " + second_entry + "]"}};
}

// A file whose second entry (files[1]) is `entry`.
std::string WithEntry(const Fields& entry) {
  return ObjectText(GoodTop(ObjectText(entry)));
}
std::string WithFingerprint(const Fields& fp) {
  return WithEntry(With(GoodEntry(), "fingerprint", ObjectText(fp)));
}

void ExpectCorrupt(const std::string& content, const std::string& expected) {
  TempDir dir;
  std::string path = dir / "web.json";
  WriteFile(path, content);
  auto loaded = LoadCheckpoints(path);
  INFO("content: " << content);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code() == ErrorCode::kProtocol);
  CHECK_THAT(loaded.error().message(), Catch::StartsWith("checkpoint file " + path + ": "));
  CHECK_THAT(loaded.error().message(), Catch::Contains(expected));
}

TEST_CASE("The corrupt-file test helpers build a valid file", "[checkpoint_store]") {
  auto parsed = ParseCheckpoints(WithEntry(GoodEntry()), "x");
  REQUIRE(parsed.ok());
  CHECK(parsed->files.size() == 2);
  CHECK(parsed->files[1] == FileCheckpoint{1, 2, {3, 0xff}, "/var/log/a.log", 4, 5});
}

TEST_CASE("Truncated or malformed JSON names the byte offset", "[checkpoint_store]") {
  std::string good = SerializeCheckpoints(OddSet());
  std::string cut = good.substr(0, good.size() / 2);
  ExpectCorrupt(cut, "not valid JSON at byte " + std::to_string(cut.size()));
  ExpectCorrupt(R"({"version": 1,, })", "not valid JSON at byte 14");
  ExpectCorrupt(good + "{}", "not valid JSON at byte " + std::to_string(good.size()));
  ExpectCorrupt(std::string("{\"version\": 1\0}", 15), "not valid JSON");
  ExpectCorrupt("", "the file is empty");
  ExpectCorrupt("   \n", "not valid JSON at byte 4");
  ExpectCorrupt("[1, 2]", "expected a JSON object at the top level");
  ExpectCorrupt(std::string(100000, '['), "not valid JSON");  // deep nesting: no stack overflow
}

TEST_CASE("Other versions are rejected clearly", "[checkpoint_store]") {
  ExpectCorrupt(R"({"version": 2, "flow": "web", "files": []})",
                "version 2 is not supported (this ferry reads version 1)");
  ExpectCorrupt(R"({"version": 0, "flow": "web", "files": []})", "version 0 is not supported");
  ExpectCorrupt(R"({"version": 2, "something": "else"})", "version 2 is not supported");
  ExpectCorrupt(R"({"version": "1", "flow": "web", "files": []})", "version: expected an unsigned integer");
  ExpectCorrupt(R"({"version": 1.0, "flow": "web", "files": []})", "version: expected an unsigned integer");
  ExpectCorrupt(R"({"flow": "web", "files": []})", "version: missing");
}

TEST_CASE("Wrong types name the field", "[checkpoint_store]") {
  ExpectCorrupt(R"({"version": 1, "flow": 7, "files": []})", ": flow: expected a string");
  ExpectCorrupt(R"({"version": 1, "flow": "web", "files": {}})", ": files: expected an array");
  ExpectCorrupt(ObjectText(GoodTop("42")), ": files[1]: expected an object");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "dev", R"("1")")),
                ": files[1].dev: expected an unsigned integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "ino", "true")), ": files[1].ino: expected an unsigned integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "offset", R"("12")")),
                ": files[1].offset: expected an unsigned integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "offset", "1.0")),
                ": files[1].offset: expected an unsigned integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "offset", "18446744073709551616")),
                ": files[1].offset: expected an unsigned integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "offset", "null")),
                ": files[1].offset: expected an unsigned integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "path", "5")), ": files[1].path: expected a string");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "updated", "1.5")), ": files[1].updated: expected an integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "updated", "9223372036854775808")),
                ": files[1].updated: expected an integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "fingerprint", R"("abc")")),
                ": files[1].fingerprint: expected an object");
  ExpectCorrupt(WithFingerprint(With(GoodFingerprint(), "length", "-3")),
                ": files[1].fingerprint.length: expected an unsigned integer");
  ExpectCorrupt(WithFingerprint(With(GoodFingerprint(), "length", "1025")),
                ": files[1].fingerprint.length: 1025 is more than 1024");
}

TEST_CASE("Negative offsets are rejected", "[checkpoint_store]") {
  ExpectCorrupt(WithEntry(With(GoodEntry(), "offset", "-1")),
                ": files[1].offset: expected an unsigned integer");
  ExpectCorrupt(WithEntry(With(GoodEntry(), "dev", "-9223372036854775808")),
                ": files[1].dev: expected an unsigned integer");
}

TEST_CASE("A hash that is not 16 hex digits is rejected", "[checkpoint_store]") {
  for (std::string bad : {R"("")", R"("abc")", R"("00000000000000ff0")", R"("0000000000000ff")",
                          R"("000000000000000g")", R"("00000000 000000f")", R"("0x000000000000ff")", "255"}) {
    ExpectCorrupt(WithFingerprint(With(GoodFingerprint(), "hash", bad)),
                  bad == "255" ? ": files[1].fingerprint.hash: expected a string"
                               : ": files[1].fingerprint.hash: expected 16 hex digits");
  }
  // Upper-case digits are accepted.
  auto parsed =
      ParseCheckpoints(WithFingerprint(With(GoodFingerprint(), "hash", R"("ABCDEF0123456789")")), "x");
  REQUIRE(parsed.ok());
  CHECK(parsed->files[1].fingerprint.hash == 0xabcdef0123456789ull);
}

TEST_CASE("Missing fields are named", "[checkpoint_store]") {
  for (const char* key : {"dev", "ino", "fingerprint", "path", "offset", "updated"}) {
    ExpectCorrupt(WithEntry(With(GoodEntry(), key, "")), std::string(": files[1].") + key + ": missing");
  }
  for (const char* key : {"length", "hash"}) {
    ExpectCorrupt(WithFingerprint(With(GoodFingerprint(), key, "")),
                  std::string(": files[1].fingerprint.") + key + ": missing");
  }
  ExpectCorrupt(R"({"version": 1, "files": []})", ": flow: missing");
  ExpectCorrupt(R"({"version": 1, "flow": "web"})", ": files: missing");
}

TEST_CASE("Unknown members are ignored", "[checkpoint_store]") {
  Fields entry = GoodEntry();
  entry.emplace_back("comment", R"({"nested": [1, 2, 3]})");
  Fields top = GoodTop(ObjectText(entry));
  top.emplace_back("written_by", R"("ferry 0.2")");
  auto parsed = ParseCheckpoints(ObjectText(top), "x");
  REQUIRE(parsed.ok());
  CHECK(parsed->files.size() == 2);
}

TEST_CASE("Escaped strings in a hand-edited file are decoded", "[checkpoint_store]") {
  auto parsed =
      ParseCheckpoints(WithEntry(With(GoodEntry(), "path", R"("/var/log/\u00fc\"\n\/x.log")")), "x");
  REQUIRE(parsed.ok());
  CHECK(parsed->files[1].path == "/var/log/\xc3\xbc\"\n/x.log");
}

TEST_CASE("An unreadable checkpoint path is an I/O error naming the path", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  REQUIRE(::mkdir(path.c_str(), 0755) == 0);
  auto loaded = LoadCheckpoints(path);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code() == ErrorCode::kIo);
  CHECK_THAT(loaded.error().message(), Catch::Contains(path));

  WriteFile(dir / "file", "x");
  loaded = LoadCheckpoints(dir / "file/web.json");
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(loaded.error().message(), Catch::Contains(dir / "file/web.json") && Catch::Contains("ENOTDIR"));
}

// ---- saving ----

TEST_CASE("SaveCheckpoints creates the folder and leaves no .tmp behind", "[checkpoint_store]") {
  TempDir dir;
  std::string path = CheckpointPath(dir / "state/deeper", "web");
  REQUIRE(SaveCheckpoints(path, OddSet()).ok());
  CHECK(Names(dir / "state/deeper/checkpoints") == std::vector<std::string>{"web.json"});
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
}

TEST_CASE("SaveCheckpoints replaces the previous file", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  CheckpointSet first{"web", {{1, 2, {3, 4}, "/a", 10, 100}}};
  CheckpointSet second{"web", {{1, 2, {3, 4}, "/a", 20, 200}, {5, 6, {7, 8}, "/b", 30, 300}}};
  REQUIRE(SaveCheckpoints(path, first).ok());
  struct stat before;
  REQUIRE(::stat(path.c_str(), &before) == 0);
  REQUIRE(SaveCheckpoints(path, second).ok());
  struct stat after;
  REQUIRE(::stat(path.c_str(), &after) == 0);
  CHECK(before.st_ino != after.st_ino);  // a new file renamed over the old one, not rewritten in place
  auto loaded = LoadCheckpoints(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK(**loaded == second);
  CHECK(Names(dir.path()) == std::vector<std::string>{"web.json"});
}

TEST_CASE("A .tmp left by a crash is ignored and then overwritten", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  CheckpointSet first{"web", {{1, 2, {3, 4}, "/a", 10, 100}}};
  REQUIRE(SaveCheckpoints(path, first).ok());
  WriteFile(path + ".tmp", "{\"version\": 1, \"flow\": \"web\", \"fil");  // torn write of the next save
  auto loaded = LoadCheckpoints(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK(**loaded == first);
  CheckpointSet second{"web", {}};
  REQUIRE(SaveCheckpoints(path, second).ok());
  loaded = LoadCheckpoints(path);
  REQUIRE(loaded.ok());
  CHECK(**loaded == second);
  CHECK(Names(dir.path()) == std::vector<std::string>{"web.json"});

  // Even a .tmp that is a symlink is replaced, not followed.
  WriteFile(dir / "elsewhere", "keep me");
  fs::create_symlink(dir / "elsewhere", path + ".tmp");
  REQUIRE(SaveCheckpoints(path, first).ok());
  CHECK(ReadAll(dir / "elsewhere") == "keep me");
  CHECK(Names(dir.path()) == std::vector<std::string>{"elsewhere", "web.json"});
}

TEST_CASE("SaveCheckpoints fails when the parent is a file", "[checkpoint_store]") {
  TempDir dir;
  WriteFile(dir / "file", "not a folder");
  for (const std::string& path : {dir / "file/web.json", dir / "file/checkpoints/web.json"}) {
    auto saved = SaveCheckpoints(path, OddSet());
    REQUIRE_FALSE(saved.ok());
    CHECK(saved.error().code() == ErrorCode::kIo);
    CHECK_THAT(saved.error().message(), Catch::Contains(path) && Catch::Contains("ENOTDIR"));
  }
  CHECK(ReadAll(dir / "file") == "not a folder");
}

TEST_CASE("SaveCheckpoints fails in a read-only folder", "[checkpoint_store]") {
  TempDir dir;
  std::string ro = dir / "ro";
  REQUIRE(::mkdir(ro.c_str(), 0555) == 0);
  // Root ignores permission bits; a read-only mount stops it.
  std::string probe = ro + "/probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
    if (!dir.MountTmpfs("rofs", "size=16k", MS_RDONLY)) return;
    ro = dir / "rofs";
  }
  for (const std::string& path : {ro + "/web.json", ro + "/checkpoints/web.json"}) {
    auto saved = SaveCheckpoints(path, OddSet());
    REQUIRE_FALSE(saved.ok());
    CHECK(saved.error().code() == ErrorCode::kIo);
    CHECK_THAT(saved.error().message(), Catch::Contains(path));
    INFO(saved.error().message());
    CHECK((saved.error().message().find("EROFS") != std::string::npos ||
           saved.error().message().find("EACCES") != std::string::npos));
  }
}

TEST_CASE("SaveCheckpoints on a full file system fails and keeps the previous file", "[checkpoint_store]") {
  TempDir dir;
  if (!dir.MountTmpfs("small", "size=16k")) return;
  std::string path = CheckpointPath(dir / "small", "web");
  CheckpointSet first{"web", {{1, 2, {3, 4}, "/a", 10, 100}}};
  REQUIRE(SaveCheckpoints(path, first).ok());
  std::string before = ReadAll(path);

  // Fill what is left of the file system.
  {
    int fd = ::open((dir / "small/filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    CHECK(errno == ENOSPC);
    ::close(fd);
  }

  CheckpointSet second = OddSet();
  for (int i = 0; i < 50; ++i) second.files.push_back({9, 9, {9, 9}, std::string(100, 'p'), 9, 9});
  auto saved = SaveCheckpoints(path, second);
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.error().code() == ErrorCode::kIo);
  CHECK_THAT(saved.error().message(), Catch::Contains(path) && Catch::Contains("ENOSPC"));
  CHECK(ReadAll(path) == before);
  CHECK(Names(dir / "small/checkpoints") == std::vector<std::string>{"web.json"});
  auto loaded = LoadCheckpoints(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK(**loaded == first);
}

TEST_CASE("SaveCheckpoints refuses a fingerprint length it could not load", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  CheckpointSet set{"web", {{1, 2, {kFingerprintBytes + 1, 4}, "/a", 10, 100}}};
  auto saved = SaveCheckpoints(path, set);
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.error().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(saved.error().message(), Catch::Contains("files[0].fingerprint.length"));
  CHECK(Names(dir.path()).empty());
}

// ---- quarantine ----

TEST_CASE("QuarantineCheckpoints moves a corrupt file aside", "[checkpoint_store]") {
  TempDir dir;
  std::string path = dir / "web.json";
  WriteFile(path, "{corrupt");
  std::string moved;
  REQUIRE(QuarantineCheckpoints(path, 1700000000, &moved).ok());
  CHECK(moved == path + ".corrupt-1700000000");
  CHECK(ReadAll(moved) == "{corrupt");
  auto loaded = LoadCheckpoints(path);
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded->has_value());

  // Twice in one second: the first one is kept.
  WriteFile(path, "{corrupt again");
  REQUIRE(QuarantineCheckpoints(path, 1700000000, &moved).ok());
  CHECK(moved == path + ".corrupt-1700000000-1");
  CHECK(ReadAll(path + ".corrupt-1700000000") == "{corrupt");
  CHECK(ReadAll(moved) == "{corrupt again");
  CHECK(Names(dir.path()) ==
        std::vector<std::string>{"web.json.corrupt-1700000000", "web.json.corrupt-1700000000-1"});

  // Without the optional out-parameter, as the interface was first written.
  WriteFile(path, "x");
  REQUIRE(QuarantineCheckpoints(path, 1700000001).ok());
  CHECK(ReadAll(path + ".corrupt-1700000001") == "x");
}

TEST_CASE("QuarantineCheckpoints of a missing file is an error naming it", "[checkpoint_store]") {
  TempDir dir;
  auto status = QuarantineCheckpoints(dir / "web.json", 5);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code() == ErrorCode::kNotFound);
  CHECK_THAT(status.error().message(), Catch::Contains(dir / "web.json") && Catch::Contains("ENOENT"));
}

// ---- file names ----

TEST_CASE("CheckpointPath escapes flow names into one safe file name", "[checkpoint_store]") {
  CHECK(CheckpointPath("/var/lib/ferry", "web") == "/var/lib/ferry/checkpoints/web.json");
  CHECK(CheckpointPath("/var/lib/ferry/", "web") == "/var/lib/ferry/checkpoints/web.json");
  CHECK(CheckpointPath("state", "web") == "state/checkpoints/web.json");
  CHECK(CheckpointPath("", "web") == "checkpoints/web.json");
  CHECK(EscapeFlowName("a/b") == "a%2Fb");
  CHECK(EscapeFlowName("..") == "%2E.");
  CHECK(EscapeFlowName(".") == "%2E");
  CHECK(EscapeFlowName(".hidden") == "%2Ehidden");
  CHECK(EscapeFlowName("web.v2_a-b") == "web.v2_a-b");
  CHECK(EscapeFlowName("\xc3\xbc") == "%C3%BC");  // ü
  CHECK(EscapeFlowName("") == "%");
  CHECK(EscapeFlowName("a b%") == "a%20b%25");
  CHECK(EscapeFlowName(std::string("a\0b", 3)) == "a%00b");
  CHECK(EscapeFlowName("~") == "%7E");
  CHECK(CheckpointPath("/s", "..") == "/s/checkpoints/%2E..json");
  CHECK(CheckpointPath("/s", "") == "/s/checkpoints/%.json");
}

TEST_CASE("Long flow names are cut and keep a hash of the whole name", "[checkpoint_store]") {
  std::string a(300, 'a');
  std::string b = a + "b";
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "\xc3\xbc";
  std::set<std::string> names;
  for (const auto& flow : {a, b, wide, wide + "x", std::string(200, 'z'), std::string(201, 'z')}) {
    std::string name = EscapeFlowName(flow);
    INFO(name);
    CHECK(name.size() <= 200);
    CHECK(name.find('/') == std::string::npos);
    names.insert(name);
  }
  CHECK(names.size() == 6);
  CHECK(EscapeFlowName(std::string(200, 'z')) == std::string(200, 'z'));  // at the limit: not cut
  // Cut between escapes, never inside one: "a" then "%C3%BC"... has escape boundaries at 1, 4, ..., 181.
  std::string cut = EscapeFlowName("a" + wide);
  CHECK(cut.size() == 181 + 17);
  CHECK(cut.substr(175, 7) == "%C3%BC~");
  CHECK(EscapeFlowName(a).substr(0, 184) == std::string(183, 'a') + "~");
}

TEST_CASE("Names of every byte can be saved", "[checkpoint_store]") {
  TempDir dir;
  std::set<std::string> paths;
  for (int c = 0; c < 256; ++c) {
    std::string flow(1, static_cast<char>(c));
    std::string path = CheckpointPath(dir.path(), flow);
    paths.insert(path);
    REQUIRE(SaveCheckpoints(path, CheckpointSet{flow, {}}).ok());
  }
  CHECK(paths.size() == 256);
  CHECK(Names(dir / "checkpoints").size() == 256);
  std::string long_flow(1000, '/');
  REQUIRE(SaveCheckpoints(CheckpointPath(dir.path(), long_flow), CheckpointSet{long_flow, {}}).ok());
}

}  // namespace
}  // namespace ferry
