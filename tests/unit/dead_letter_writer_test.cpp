// Tests of DeadLetterWriter (agent/delivery/dead_letter_writer): each letter is one line of JSON that
// rapidjson reads back field for field, in the documented order; data that is not UTF-8 (or holds a NUL)
// goes to data_base64; bad UTF-8 in text fields becomes U+FFFD; writes append, across writers too; the
// folder is made at the first Write with mode 0750 and the file 0640; errors name the path and the errno
// (a parent that is a file, a folder without write permission, a write cut short by RLIMIT_FSIZE), and a
// failed write leaves the file as it was. Tests run on one thread.
#include "agent/delivery/dead_letter_writer.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/file_size_limit.h"
#include "tests/unit/scratch_dir.h"
#include "tests/unit/without_file_capabilities.h"

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

DeadLetterWriter Writer(const std::string& folder, std::int64_t now = kNowMs) {
  return DeadLetterWriter(folder, "web", [now] { return now; });
}

TEST_CASE("DeadLetterWriter writes one JSON line per letter, fields in order", "[delivery]") {
  TempDir dir;
  std::string folder = dir / "state/dead-letter";
  DeadLetterWriter writer(folder, "web", [] { return kNowMs; });
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
  auto status = writer.Write(letters);
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
  TempDir dir;
  auto writer = Writer(dir / "dead-letter");
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
  REQUIRE(writer.Write(letters).ok());

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
  TempDir dir;
  auto writer = Writer(dir / "dead-letter");
  DeadLetter letter = Letter("ok");
  letter.partition_key = "key\xFF\xFE-1";
  letter.error_message = "caf\xC3";
  REQUIRE(writer.Write({&letter, 1}).ok());
  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 1);
  auto doc = Parse(lines[0]);
  CHECK(Str(doc, "partition_key") == "key\xEF\xBF\xBD\xEF\xBF\xBD-1");
  CHECK(Str(doc, "error_message") == "caf\xEF\xBF\xBD");
  CHECK(Str(doc, "data") == "ok");
}

TEST_CASE("DeadLetterWriter appends across writes and across writers", "[delivery]") {
  TempDir dir;
  std::string folder = dir / "dead-letter";
  {
    auto writer = Writer(folder);
    DeadLetter a = Letter("one");
    DeadLetter b = Letter("two");
    REQUIRE(writer.Write({&a, 1}).ok());
    REQUIRE(writer.Write({&b, 1}).ok());
    REQUIRE(writer.Write({}).ok());  // nothing to write
    CHECK(writer.written() == 2);
  }
  auto writer = Writer(folder, 0);
  DeadLetter c = Letter("three");
  REQUIRE(writer.Write({&c, 1}).ok());
  CHECK(writer.written() == 1);

  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 3);
  CHECK(Str(Parse(lines[0]), "data") == "one");
  CHECK(Str(Parse(lines[1]), "data") == "two");
  CHECK(Str(Parse(lines[2]), "data") == "three");
  CHECK(Str(Parse(lines[2]), "time") == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("DeadLetterWriter writes times before 1970 with positive milliseconds", "[delivery]") {
  TempDir dir;
  auto writer = Writer(dir / "dead-letter", -1);
  DeadLetter letter = Letter("x");
  REQUIRE(writer.Write({&letter, 1}).ok());
  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 1);
  CHECK(Str(Parse(lines[0]), "time") == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("DeadLetterWriter starts a fresh line after a file cut mid-line", "[delivery]") {
  TempDir dir;
  std::string folder = dir / "dead-letter";
  REQUIRE(fs::create_directories(folder));
  {
    std::ofstream out(folder + "/web.jsonl", std::ios::binary);
    out << "{\"time\":\"2026-11-26T15:04:05.123Z\",\"fl";  // a crash in the middle of a line
  }
  auto writer = Writer(folder);
  DeadLetter letter = Letter("after");
  REQUIRE(writer.Write({&letter, 1}).ok());
  std::string text = ReadFile(writer.path());
  auto newline = text.find('\n');
  REQUIRE(newline != std::string::npos);
  std::string last = text.substr(newline + 1, text.size() - newline - 2);
  CHECK(Str(Parse(last), "data") == "after");
}

TEST_CASE("DeadLetterWriter creates its folder 0750 and its file 0640", "[delivery]") {
  TempDir dir;
  std::string folder = dir / "a/b/dead-letter";
  auto writer = Writer(folder);
  DeadLetter letter = Letter("x");
  REQUIRE(writer.Write({&letter, 1}).ok());
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
  TempDir dir;
  { std::ofstream(dir / "state") << "not a folder"; }
  auto writer = Writer(dir / "state/dead-letter");
  DeadLetter letter = Letter("x");
  auto status = writer.Write({&letter, 1});
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code() == ErrorCode::kIo);
  INFO(status.error().message());
  CHECK(status.error().message().find(writer.path()) != std::string::npos);
  CHECK(status.error().message().find("ENOTDIR") != std::string::npos);
  CHECK(writer.written() == 0);
}

TEST_CASE("DeadLetterWriter fails with the path and the errno in a folder it may not write to",
          "[delivery]") {
  TempDir dir;
  std::string folder = dir / "dead-letter";
  REQUIRE(fs::create_directories(folder));
  fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec);
  testing::WithoutFileCapabilities no_override;
  if (!no_override.active()) {
    WARN("running as root with CAP_DAC_OVERRIDE that cannot be dropped; skipping this test");
    return;
  }
  auto writer = Writer(folder);
  DeadLetter letter = Letter("x");
  auto status = writer.Write({&letter, 1});
  REQUIRE_FALSE(status.ok());
  INFO(status.error().message());
  CHECK(status.error().code() == ErrorCode::kIo);
  CHECK(status.error().message().find(writer.path()) != std::string::npos);
  CHECK(status.error().message().find("EACCES") != std::string::npos);
  CHECK_FALSE(fs::exists(writer.path()));
}

using ferry::testing::FileSizeLimit;

TEST_CASE("DeadLetterWriter cuts off a partly written call and stays usable", "[delivery]") {
  TempDir dir;
  auto writer = Writer(dir / "dead-letter");
  DeadLetter first = Letter("first");
  REQUIRE(writer.Write({&first, 1}).ok());
  std::string before = ReadFile(writer.path());

  std::string big(10000, 'x');
  std::vector<DeadLetter> letters = {Letter("second"), Letter(big)};
  {
    FileSizeLimit limit(before.size() + 1000);  // the first new line fits, the second does not
    auto status = writer.Write(letters);
    REQUIRE_FALSE(status.ok());
    INFO(status.error().message());
    CHECK(status.error().code() == ErrorCode::kIo);
    CHECK(status.error().message().find(writer.path()) != std::string::npos);
    CHECK(status.error().message().find("EFBIG") != std::string::npos);
  }
  CHECK(ReadFile(writer.path()) == before);  // all or nothing
  CHECK(writer.written() == 1);

  REQUIRE(writer.Write(letters).ok());
  CHECK(writer.written() == 3);
  auto lines = Lines(writer.path());
  REQUIRE(lines.size() == 3);
  CHECK(Str(Parse(lines[0]), "data") == "first");
  CHECK(Str(Parse(lines[1]), "data") == "second");
  CHECK(Str(Parse(lines[2]), "data") == big);
}

}  // namespace
}  // namespace ferry
