// Tests of DeadLetterWriter (agent/delivery/dead_letter_writer): each letter is one line of JSON that
// rapidjson reads back field for field, in the documented order; data that is not UTF-8 (or holds a NUL)
// goes to data_base64; bad UTF-8 in text fields becomes U+FFFD; writes append, across writers too; the
// folder is made at the first Write with mode 0750 and the file 0640; errors name the path and the errno
// (a parent that is a file, a folder it may not write to, a write cut short by RLIMIT_FSIZE), and a
// failed write leaves the file as it was. Off the loop: with the sync step slowed down (a test hook
// sleeping on the pool thread) the loop's 10 ms timer stays on time; writes complete in the order they
// were made and those queued behind a slow one share one sync; a failed sync fails the whole group and
// leaves the file as it was. The tests run their own loop; the writes run on its thread pool.
#include "agent/delivery/dead_letter_writer.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/unit/file_size_limit.h"
#include "tests/unit/loop_lateness.h"
#include "tests/unit/scratch_dir.h"
#include "tests/unit/slow_sync.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNowMs = 1795705445123;  // 2026-11-26T15:04:05.123Z

// A scratch folder per test.
class TempDir : public ferry::testing::ScratchDir {
 public:
  TempDir() : ferry::testing::ScratchDir("ferry-dead-letter") {}
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The file's lines, each without its '\n'; the file must end with one.
std::vector<std::string> Lines(const std::string& path) {
  std::string text = ReadFile(path);
  std::vector<std::string> lines;
  if (text.empty()) return lines;
  REQUIRE(text.back() == '\n');
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

// A line as a JSON object, parsed strictly (its UTF-8 validated too).
rapidjson::Document Parse(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  INFO(line);
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

std::string Str(const rapidjson::Value& object, const char* name) {
  INFO(name);
  REQUIRE(object.HasMember(name));
  REQUIRE(object[name].IsString());
  return std::string(object[name].GetString(), object[name].GetStringLength());
}

// The keys of a JSON object in the order they were written.
struct KeyCollector : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, KeyCollector> {
  std::vector<std::string> keys;
  int depth = 0;
  bool StartObject() { return ++depth, true; }
  bool EndObject(rapidjson::SizeType) { return --depth, true; }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth == 1) keys.emplace_back(s, n);
    return true;
  }
};

std::vector<std::string> Keys(const std::string& line) {
  KeyCollector collector;
  rapidjson::Reader reader;
  rapidjson::StringStream in(line.c_str());
  REQUIRE(reader.Parse(in, collector));
  return collector.keys;
}

DeadLetter Letter(std::string_view data) {
  DeadLetter letter;
  letter.flow = "web";
  letter.destination = "Kinesis stream 'web'";
  letter.error_code = "InvalidArgumentException";
  letter.error_message = "Record is too large";
  letter.partition_key = "host-1";
  letter.data = data;
  return letter;
}

// The loop the writers' jobs report to; Write runs it until the write is done.
class TestLoop {
 public:
  TestLoop() { REQUIRE(uv_loop_init(&loop_) == 0); }
  ~TestLoop() {
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);
  }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;

  uv_loop_t* get() { return &loop_; }
  Status Write(DeadLetterWriter& writer, std::span<const DeadLetter> letters) {
    std::optional<Status> done;
    writer.Write(letters, [&](Status s) { done = std::move(s); });
    while (!done) REQUIRE((uv_run(&loop_, UV_RUN_ONCE) != 0 || done));
    return *done;
  }

 private:
  uv_loop_t loop_{};
};

DeadLetterWriter Writer(TestLoop& loop, const std::string& folder, std::int64_t now = kNowMs,
                        DeadLetterWriter::SyncCall sync = {}) {
  return DeadLetterWriter(
      loop.get(), folder, "web", [now] { return now; }, std::move(sync));
}

TEST_CASE("DeadLetterWriter writes one JSON line per letter, fields in order", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  std::string folder = dir / "state/dead-letter";
  DeadLetterWriter writer(loop.get(), folder, "web", [] { return kNowMs; });
  CHECK(writer.path() == folder + "/web.jsonl");
  CHECK_FALSE(fs::exists(folder));  // not before the first Write

  std::string text = "GET /index.html \"quoted\" \\ tab\t newline\n caf\xC3\xA9 \xF0\x9F\x98\x80";
  DeadLetter first = Letter(text);
  first.explicit_hash_key = "170141183460469231731687303715884105728";
  first.user_records = 7;
  first.error_message = "line\nbreak and \x01 control";
  DeadLetter second = Letter("");
  second.partition_key = "";
  std::vector<DeadLetter> letters = {first, second};
  auto status = loop.Write(writer, letters);
  INFO((status.ok() ? "" : status.error().message()));
  REQUIRE(status.ok());
  CHECK(writer.written() == 2);

  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 2);
  CHECK(Keys(lines[0]) == std::vector<std::string>{"time", "flow", "destination", "error_code",
                                                   "error_message", "partition_key", "explicit_hash_key",
                                                   "user_records", "data"});
  auto doc = Parse(lines[0]);
  CHECK(Str(doc, "time") == "2026-11-26T15:04:05.123Z");
  CHECK(Str(doc, "flow") == "web");
  CHECK(Str(doc, "destination") == "Kinesis stream 'web'");
  CHECK(Str(doc, "error_code") == "InvalidArgumentException");
  CHECK(Str(doc, "error_message") == "line\nbreak and \x01 control");
  CHECK(Str(doc, "partition_key") == "host-1");
  CHECK(Str(doc, "explicit_hash_key") == "170141183460469231731687303715884105728");
  REQUIRE(doc["user_records"].IsUint());
  CHECK(doc["user_records"].GetUint() == 7);
  CHECK(Str(doc, "data") == text);

  // No explicit hash key: no field; an empty partition key and empty data are still there.
  CHECK(Keys(lines[1]) == std::vector<std::string>{"time", "flow", "destination", "error_code",
                                                   "error_message", "partition_key", "user_records", "data"});
  auto empty = Parse(lines[1]);
  CHECK(Str(empty, "partition_key").empty());
  CHECK(Str(empty, "data").empty());
  CHECK(empty["user_records"].GetUint() == 1);
}

TEST_CASE("DeadLetterWriter writes data that is not UTF-8 text as data_base64", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  auto writer = Writer(loop, dir / "dead-letter");
  using namespace std::string_view_literals;
  std::vector<std::string_view> binary = {
      "\x00\x01\x02\xff"sv,  // bytes that are never UTF-8
      "ab\0cd"sv,            // valid UTF-8, but a NUL
      "\xC0\x80"sv,          // an overlong NUL
      "\xED\xA0\x80"sv,      // a UTF-16 surrogate
      "\xF4\x90\x80\x80"sv,  // past U+10FFFF
      "caf\xC3"sv,           // cut off mid-character
  };
  std::vector<DeadLetter> letters;
  for (auto data : binary) letters.push_back(Letter(data));
  REQUIRE(loop.Write(writer, letters).ok());

  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == binary.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    auto keys = Keys(lines[i]);
    CHECK(keys.back() == "data_base64");
    auto doc = Parse(lines[i]);
    CHECK_FALSE(doc.HasMember("data"));
  }
  CHECK(Str(Parse(lines[0]), "data_base64") == "AAEC/w==");
  CHECK(Str(Parse(lines[1]), "data_base64") == "YWIAY2Q=");
}

TEST_CASE("DeadLetterWriter replaces bad UTF-8 in text fields with U+FFFD", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  auto writer = Writer(loop, dir / "dead-letter");
  DeadLetter letter = Letter("ok");
  letter.partition_key = "key\xFF\xFE-1";
  letter.error_message = "caf\xC3";
  REQUIRE(loop.Write(writer, {&letter, 1}).ok());
  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 1);
  auto doc = Parse(lines[0]);
  CHECK(Str(doc, "partition_key") == "key\xEF\xBF\xBD\xEF\xBF\xBD-1");
  CHECK(Str(doc, "error_message") == "caf\xEF\xBF\xBD");
  CHECK(Str(doc, "data") == "ok");
}

TEST_CASE("DeadLetterWriter appends across writes and across writers", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  std::string folder = dir / "dead-letter";
  {
    auto writer = Writer(loop, folder);
    DeadLetter a = Letter("one");
    DeadLetter b = Letter("two");
    REQUIRE(loop.Write(writer, {&a, 1}).ok());
    REQUIRE(loop.Write(writer, {&b, 1}).ok());
    REQUIRE(loop.Write(writer, {}).ok());  // nothing to write
    CHECK(writer.written() == 2);
  }
  auto writer = Writer(loop, folder, 0);
  DeadLetter c = Letter("three");
  REQUIRE(loop.Write(writer, {&c, 1}).ok());
  CHECK(writer.written() == 1);

  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 3);
  CHECK(Str(Parse(lines[0]), "data") == "one");
  CHECK(Str(Parse(lines[1]), "data") == "two");
  CHECK(Str(Parse(lines[2]), "data") == "three");
  CHECK(Str(Parse(lines[2]), "time") == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("DeadLetterWriter writes times before 1970 with positive milliseconds", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  auto writer = Writer(loop, dir / "dead-letter", -1);
  DeadLetter letter = Letter("x");
  REQUIRE(loop.Write(writer, {&letter, 1}).ok());
  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 1);
  CHECK(Str(Parse(lines[0]), "time") == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("DeadLetterWriter starts a fresh line after a file cut mid-line", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  std::string folder = dir / "dead-letter";
  REQUIRE(fs::create_directories(folder));
  {
    std::ofstream out(folder + "/web.jsonl", std::ios::binary);
    out << "{\"time\":\"2026-11-26T15:04:05.123Z\",\"fl";  // a crash in the middle of a line
  }
  auto writer = Writer(loop, folder);
  DeadLetter letter = Letter("after");
  REQUIRE(loop.Write(writer, {&letter, 1}).ok());
  std::string text = ReadFile(writer.path());
  auto newline = text.find('\n');
  REQUIRE(newline != std::string::npos);
  std::string last = text.substr(newline + 1, text.size() - newline - 2);
  CHECK(Str(Parse(last), "data") == "after");
}

TEST_CASE("DeadLetterWriter creates its folder 0750 and its file 0640", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  std::string folder = dir / "a/b/dead-letter";
  auto writer = Writer(loop, folder);
  DeadLetter letter = Letter("x");
  REQUIRE(loop.Write(writer, {&letter, 1}).ok());
  mode_t mask = ::umask(0);
  ::umask(mask);
  struct stat st;
  REQUIRE(::stat(folder.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 0777) == (0750 & ~mask));
  REQUIRE(::stat((dir / "a").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == (0750 & ~mask));
  REQUIRE(::stat(writer.path().c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 0777) == (0640 & ~mask));
}

TEST_CASE("DeadLetterWriter fails with the path when a parent of its folder is a file", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  { std::ofstream(dir / "state") << "not a folder"; }
  auto writer = Writer(loop, dir / "state/dead-letter");
  DeadLetter letter = Letter("x");
  auto status = loop.Write(writer, {&letter, 1});
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code() == ErrorCode::kIo);
  INFO(status.error().message());
  CHECK(status.error().message().find(writer.path()) != std::string::npos);
  CHECK(status.error().message().find("ENOTDIR") != std::string::npos);
  CHECK(writer.written() == 0);
}

TEST_CASE("DeadLetterWriter writes to its fallback when the file cannot be written", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  { std::ofstream(dir / "state") << "not a folder"; }
  auto writer = Writer(loop, dir / "state/dead-letter");
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  writer.set_fallback_fd(fds[1]);
  DeadLetter letter = Letter("refused record");
  auto status = loop.Write(writer, {&letter, 1});
  ::close(fds[1]);
  std::string out(4096, '\0');
  out.resize(static_cast<std::size_t>(std::max<ssize_t>(::read(fds[0], out.data(), out.size()), 0)));
  ::close(fds[0]);
  REQUIRE(status.ok());
  CHECK(writer.written() == 1);
  CHECK(writer.fallen_back() == 1);
  CHECK(writer.file_error().find("ENOTDIR") != std::string::npos);
  CHECK(out.find("\"data\":\"refused record\"") != std::string::npos);
  CHECK(out.back() == '\n');
}

TEST_CASE("DeadLetterWriter fails with the path and the errno in a folder it may not write to",
          "[delivery]") {
  TestLoop loop;
  TempDir dir;
  std::string folder = dir / "dead-letter";
  std::string expected;
  if (::geteuid() == 0) {
    // Permission bits do not stop root, and the file is opened on a pool thread, which keeps the
    // capabilities a test could drop on its own thread: a read-only file system stops everyone.
    if (!dir.MountTmpfs("dead-letter", "size=64k", MS_RDONLY)) return;
    expected = "EROFS";
  } else {
    REQUIRE(fs::create_directories(folder));
    fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec);
    expected = "EACCES";
  }
  auto writer = Writer(loop, folder);
  DeadLetter letter = Letter("x");
  auto status = loop.Write(writer, {&letter, 1});
  REQUIRE_FALSE(status.ok());
  INFO(status.error().message());
  CHECK(status.error().code() == ErrorCode::kIo);
  CHECK(status.error().message().find(writer.path()) != std::string::npos);
  CHECK(status.error().message().find(expected) != std::string::npos);
  CHECK_FALSE(fs::exists(writer.path()));
}

using ferry::testing::FileSizeLimit;

TEST_CASE("DeadLetterWriter cuts off a partly written call and stays usable", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  auto writer = Writer(loop, dir / "dead-letter");
  DeadLetter first = Letter("first");
  REQUIRE(loop.Write(writer, {&first, 1}).ok());
  std::string before = ReadFile(writer.path());

  std::string big(10000, 'x');
  std::vector<DeadLetter> letters = {Letter("second"), Letter(big)};
  {
    FileSizeLimit limit(before.size() + 1000);  // the first new line fits, the second does not
    auto status = loop.Write(writer, letters);
    REQUIRE_FALSE(status.ok());
    INFO(status.error().message());
    CHECK(status.error().code() == ErrorCode::kIo);
    CHECK(status.error().message().find(writer.path()) != std::string::npos);
    CHECK(status.error().message().find("EFBIG") != std::string::npos);
  }
  CHECK(ReadFile(writer.path()) == before);  // all or nothing
  CHECK(writer.written() == 1);

  REQUIRE(loop.Write(writer, letters).ok());
  CHECK(writer.written() == 3);
  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 3);
  CHECK(Str(Parse(lines[0]), "data") == "first");
  CHECK(Str(Parse(lines[1]), "data") == "second");
  CHECK(Str(Parse(lines[2]), "data") == big);
}

using ferry::testing::SlowSync;

TEST_CASE("DeadLetterWriter does not block the loop while it writes and syncs", "[delivery][slow_disk]") {
  TestLoop loop;
  TempDir dir;
  SlowSync sync{300};
  auto writer = Writer(loop, dir / "dead-letter", kNowMs, sync.Hook());
  testing::LoopLateness lateness(loop.get());
  DeadLetter letter = Letter("x");
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(loop.Write(writer, {&letter, 1}).ok());
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  CHECK(*sync.calls == 1);
  INFO("the loop was late by up to " << lateness.max_late_ms() << " ms");
  CHECK(lateness.ticks() >= 10);
  CHECK(lateness.max_late_ms() < 150);
  CHECK(Lines(writer.path()).size() == 1);
}

TEST_CASE("DeadLetterWriter completes writes in order; those queued behind a slow one share one sync",
          "[delivery]") {
  TestLoop loop;
  TempDir dir;
  SlowSync sync{50};
  auto writer = Writer(loop, dir / "dead-letter", kNowMs, sync.Hook());
  std::vector<std::string> data;
  for (int i = 0; i < 6; ++i) data.push_back("letter-" + std::to_string(i));
  std::vector<DeadLetter> letters;
  for (const auto& d : data) letters.push_back(Letter(d));
  std::vector<int> done;
  for (int i = 0; i < 6; ++i) {
    writer.Write({&letters[static_cast<std::size_t>(i)], 1}, [&, i](Status s) {
      CHECK(s.ok());
      done.push_back(i);
    });
  }
  CHECK(done.empty());  // nothing is reported before it is durable
  while (!writer.idle()) uv_run(loop.get(), UV_RUN_ONCE);
  CHECK(done == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(*sync.calls == 2);  // the first alone, the five queued behind it together
  CHECK(writer.written() == 6);
  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 6);
  for (std::size_t i = 0; i < lines.size(); ++i)
    CHECK(Str(Parse(lines[i]), "data") == "letter-" + std::to_string(i));
}

TEST_CASE("DeadLetterWriter fails a whole group whose sync fails and leaves the file as it was",
          "[delivery]") {
  TestLoop loop;
  TempDir dir;
  SlowSync sync{30, {2}};
  auto writer = Writer(loop, dir / "dead-letter", kNowMs, sync.Hook());
  std::vector<DeadLetter> letters = {Letter("one"), Letter("two"), Letter("three")};
  std::vector<std::pair<int, bool>> done;
  std::string error;
  for (int i = 0; i < 3; ++i) {
    writer.Write({&letters[static_cast<std::size_t>(i)], 1}, [&, i](Status s) {
      if (!s) error = s.error().message();
      done.emplace_back(i, s.ok());
    });
  }
  while (!writer.idle()) uv_run(loop.get(), UV_RUN_ONCE);
  CHECK(done == std::vector<std::pair<int, bool>>{{0, true}, {1, false}, {2, false}});
  CHECK_THAT(error, Catch::Contains(writer.path()) && Catch::Contains("fdatasync") && Catch::Contains("EIO"));
  CHECK(writer.written() == 1);
  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 1);
  CHECK(Str(Parse(lines[0]), "data") == "one");
  REQUIRE(loop.Write(writer, {&letters[2], 1}).ok());
  lines = Lines(writer.path());
  REQUIRE(lines.size() == 2);
  CHECK(Str(Parse(lines[1]), "data") == "three");
}

TEST_CASE("DeadLetterWriter's WhenIdle runs once the writes under way are done", "[delivery]") {
  TestLoop loop;
  TempDir dir;
  SlowSync sync{100};
  auto writer = Writer(loop, dir / "dead-letter", kNowMs, sync.Hook());
  bool idle = false;
  writer.WhenIdle([&] { idle = true; });
  CHECK(idle);  // nothing under way: at once
  idle = false;
  bool written = false;
  DeadLetter letter = Letter("x");
  writer.Write({&letter, 1}, [&](Status s) { written = s.ok(); });
  writer.WhenIdle([&] {
    CHECK(written);
    idle = true;
  });
  CHECK_FALSE(idle);
  while (!writer.idle()) uv_run(loop.get(), UV_RUN_ONCE);
  CHECK(idle);
}

}  // namespace
}  // namespace ferry
