// Tests of PartitionKeyPolicy (agent/kinesis/partition_key_policy): each kind of key, template variables and
// the ${file} cache, the Kinesis rules (cut at 256 characters, valid UTF-8, never empty), the fallback and
// its counter, JSON fields (nested, numbers, escapes, records that are not JSON objects), regex captures,
// what Create() rejects, and a timing of 1M records per kind reported with WARN (not asserted).
#include "agent/kinesis/partition_key_policy.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::kinesis {
namespace {

using Kind = PartitionKeySpec::Kind;

const KeyContext kContext{"web-1", "nginx"};

PartitionKeySpec Spec(Kind kind, std::string text, std::string fallback = "random") {
  PartitionKeySpec spec;
  spec.kind = kind;
  spec.text = std::move(text);
  spec.fallback = std::move(fallback);
  return spec;
}

PartitionKeyPolicy Make(const PartitionKeySpec& spec, const KeyContext& context = kContext) {
  auto policy = PartitionKeyPolicy::Create(spec, context);
  if (!policy.ok()) FAIL("Create failed: " << policy.error().message());
  return std::move(policy).value();
}

// The message Create() fails with; fails the test when it succeeds.
std::string CreateError(const PartitionKeySpec& spec, const KeyContext& context = kContext) {
  auto policy = PartitionKeyPolicy::Create(spec, context);
  if (policy.ok())
    FAIL("Create succeeded for text \"" << spec.text << "\", fallback \"" << spec.fallback << "\"");
  CHECK(policy.error().code() == ErrorCode::kInvalidArgument);
  return policy.error().message();
}

bool IsRandomKey(std::string_view key) {
  if (key.size() != 16) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// n copies of s.
std::string Repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST_CASE("Random keys are 16 hex digits in the arena, different each record", "[partition_key]") {
  auto policy = Make(PartitionKeySpec{});
  CHECK(policy.kind() == Kind::kRandom);
  Arena arena;
  std::string_view a = policy.KeyFor("x", "/var/log/a.log", arena);
  std::string_view b = policy.KeyFor("x", "/var/log/a.log", arena);
  CHECK(IsRandomKey(a));
  CHECK(IsRandomKey(b));
  CHECK(a != b);
  CHECK(arena.capacity() > 0);
  CHECK(policy.fallbacks() == 0);
  CHECK(policy.ExplicitHashKey().empty());
}

TEST_CASE("data_md5 keys are the MD5 of the record in hex: equal records, equal keys", "[partition_key]") {
  auto policy = Make(Spec(Kind::kDataMd5, ""));
  CHECK(policy.kind() == Kind::kDataMd5);
  Arena arena;
  // RFC 1321's test suite.
  CHECK(policy.KeyFor("", "/var/log/a.log", arena) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(policy.KeyFor("abc", "/var/log/a.log", arena) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(policy.KeyFor("message digest", "/var/log/b.log", arena) == "f96b697d7cb7938d525a2f31aaf161d0");
  // Any bytes make a valid key.
  CHECK(policy.KeyFor(std::string_view("\xFF\x00\xC3", 3), "/var/log/a.log", arena).size() == 32);
  CHECK(policy.fallbacks() == 0);
}

TEST_CASE("A template without variables is a fixed key owned by the policy", "[partition_key]") {
  auto policy = Make(Spec(Kind::kTemplate, "web"));
  Arena arena;
  std::string_view first = policy.KeyFor("one", "/a.log", arena);
  CHECK(first == "web");
  CHECK(policy.KeyFor("two", "/b.log", arena).data() == first.data());
  CHECK(arena.capacity() == 0);

  // The key's bytes stay where they are when the policy moves.
  PartitionKeyPolicy moved = std::move(policy);
  CHECK(first == "web");
  CHECK(moved.KeyFor("three", "/c.log", arena).data() == first.data());
}

TEST_CASE("Template variables and the literal text around them", "[partition_key]") {
  const struct {
    std::string_view text;
    std::string_view file;
    std::string_view key;
  } cases[] = {
      {"${hostname}", "/var/log/a.log", "web-1"},
      {"${flow}", "/var/log/a.log", "nginx"},
      {"${file}", "/var/log/a.log", "/var/log/a.log"},
      {"${flow}-${file}", "/var/log/a.log", "nginx-/var/log/a.log"},
      {"h=${hostname};f=${flow};p=${file}!", "/x", "h=web-1;f=nginx;p=/x!"},
      {"${hostname}${hostname}", "/x", "web-1web-1"},
      {"${file}|${file}", "/x", "/x|/x"},
      {"$5 and {braces} and $x", "/x", "$5 and {braces} and $x"},
      {"caf\xc3\xa9-${hostname}", "/x", "caf\xc3\xa9-web-1"},
  };
  for (const auto& c : cases) {
    INFO("template " << c.text);
    auto policy = Make(Spec(Kind::kTemplate, std::string(c.text)));
    Arena arena;
    CHECK(policy.KeyFor("record", c.file, arena) == c.key);
    CHECK(policy.fallbacks() == 0);
  }
}

TEST_CASE("${file} keys are built once per path and kept", "[partition_key]") {
  auto policy = Make(Spec(Kind::kTemplate, "${flow}:${file}"));
  Arena arena;
  std::string_view a = policy.KeyFor("r", "/var/log/a.log", arena);
  std::string_view b = policy.KeyFor("r", "/var/log/b.log", arena);
  CHECK(a == "nginx:/var/log/a.log");
  CHECK(b == "nginx:/var/log/b.log");
  CHECK(policy.KeyFor("r", "/var/log/a.log", arena).data() == a.data());
  CHECK(policy.KeyFor("r", "/var/log/b.log", arena).data() == b.data());
  CHECK(arena.capacity() == 0);

  // Past kMaxCachedFiles paths, keys go into the arena; the kept ones stay valid and kept.
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < PartitionKeyPolicy::kMaxCachedFiles + 10; ++i) {
    paths.push_back("/var/log/many/file-" + std::to_string(i) + ".log");
  }
  for (const std::string& path : paths) CHECK(policy.KeyFor("r", path, arena) == "nginx:" + path);
  CHECK(arena.capacity() > 0);
  CHECK(a == "nginx:/var/log/a.log");
  CHECK(policy.KeyFor("r", "/var/log/a.log", arena).data() == a.data());
  const std::string& late = paths.back();
  std::string_view late1 = policy.KeyFor("r", late, arena);
  std::string_view late2 = policy.KeyFor("r", late, arena);
  CHECK(late1 == "nginx:" + late);
  CHECK(late2 == late1);
  CHECK(late1.data() != late2.data());  // each in the arena, so each lives as long as its record
  CHECK(policy.fallbacks() == 0);
}

TEST_CASE("A ${file} key longer than 256 characters is cut; a path that is not UTF-8 falls back",
          "[partition_key]") {
  auto policy = Make(Spec(Kind::kTemplate, "${file}", "${hostname}"));
  Arena arena;
  const std::string long_path = "/" + Repeat("\xc3\xa9", 300);  // 301 characters
  std::string_view key = policy.KeyFor("r", long_path, arena);
  CHECK(key == "/" + Repeat("\xc3\xa9", 255));
  CHECK(policy.fallbacks() == 0);
  CHECK(policy.KeyFor("r", "/var/log/\xff.log", arena) == "web-1");
  CHECK(policy.KeyFor("r", "", arena) == "web-1");
  CHECK(policy.fallbacks() == 2);

  // A fallback template that cannot make a key either gives a random one.
  auto both_file = Make(Spec(Kind::kTemplate, "${file}", "x${file}"));
  CHECK(IsRandomKey(both_file.KeyFor("r", "/bad\xc0\xaf", arena)));
  CHECK(both_file.KeyFor("r", "", arena) == "x");  // "x" + an empty path is still a key
  CHECK(both_file.fallbacks() == 2);
}

TEST_CASE("JSON field keys: top level, nested, numbers, escapes", "[partition_key]") {
  auto policy = Make(Spec(Kind::kJsonField, "user.id"));
  auto top = Make(Spec(Kind::kJsonField, "id"));
  auto deep = Make(Spec(Kind::kJsonField, "a.b.c"));
  Arena arena;
  CHECK(policy.kind() == Kind::kJsonField);
  CHECK(policy.KeyFor(R"({"user":{"id":"u-42","name":"x"},"msg":"hi"})", "/f", arena) == "u-42");
  CHECK(policy.KeyFor(R"({"msg":"hi","user":{"name":"x","id":"u-43"}})", "/f", arena) == "u-43");
  CHECK(policy.KeyFor(" \t{ \"user\" : { \"id\" : \"spaced\" } } ", "/f", arena) == "spaced");
  CHECK(top.KeyFor(R"({"id":"abc"})", "/f", arena) == "abc");
  CHECK(deep.KeyFor(R"({"a":{"x":1,"b":{"y":[1,2],"c":"deep"}}})", "/f", arena) == "deep");

  // Numbers keep their JSON text.
  CHECK(top.KeyFor(R"({"id":42})", "/f", arena) == "42");
  CHECK(top.KeyFor(R"({"id": -1.5e3 ,"x":1})", "/f", arena) == "-1.5e3");
  CHECK(top.KeyFor(R"({"id":0})", "/f", arena) == "0");
  CHECK(top.KeyFor(R"({"id":123456789012345678901234567890})", "/f", arena) ==
        "123456789012345678901234567890");
  CHECK(policy.KeyFor(R"({"user":{"id":7}})", "/f", arena) == "7");

  // Strings are unescaped.
  CHECK(top.KeyFor(R"({"id":"a\"b"})", "/f", arena) == "a\"b");
  CHECK(top.KeyFor(R"({"id":"\u00e9t\u00e9"})", "/f", arena) == "\xc3\xa9t\xc3\xa9");
  CHECK(top.KeyFor(R"({"id":"\ud83d\ude00 \\ \/ \t"})", "/f", arena) == "\xf0\x9f\x98\x80 \\ / \t");
  CHECK(top.KeyFor("{\"id\":\"\xe6\x97\xa5\xe6\x9c\xac\"}", "/f", arena) == "\xe6\x97\xa5\xe6\x9c\xac");
  CHECK(policy.fallbacks() == 0);
  CHECK(top.fallbacks() == 0);
  CHECK(deep.fallbacks() == 0);
}

TEST_CASE("JSON field keys outlive the record and the next record", "[partition_key]") {
  auto policy = Make(Spec(Kind::kJsonField, "id"));
  Arena arena;
  std::string record = R"({"id":"first"})";
  std::string_view first = policy.KeyFor(record, "/f", arena);
  record.assign(R"({"id":"second, and longer"})");
  std::string_view second = policy.KeyFor(record, "/f", arena);
  record.assign(200, 'x');
  CHECK(first == "first");
  CHECK(second == "second, and longer");
}

TEST_CASE("JSON records without a usable field fall back", "[partition_key]") {
  auto policy = Make(Spec(Kind::kJsonField, "user.id", "${hostname}-nokey"));
  Arena arena;
  const std::string_view records[] = {
      R"({"user":{"name":"x"}})",                  // missing
      R"({"other":1})",                            // missing at the top
      R"({"user":"u-42"})",                        // not an object on the way
      R"({"user":{"id":null}})",                   // not a string or number
      R"({"user":{"id":true}})",                   //
      R"({"user":{"id":{"x":1}}})",                //
      R"({"user":{"id":["a"]}})",                  //
      R"({"user":{"id":""}})",                     // empty
      R"({"user":{"id":01}})",                     // not a JSON number
      R"({"user":{"id":-}})",                      //
      R"({"user":{"id":"bad \q escape"}})",        //
      R"({"user":{"id":"lone \ud800 half"}})",     // not a character
      "{\"user\":{\"id\":\"x\"},\"m\":\"\xff\"}",  // not UTF-8 further on
      R"({"user":{"id":"x"}} tail)",               // more after the object
      "plain text line",                           // not JSON
      "",                                          //
      "   ",                                       //
      R"(["user", {"id":"x"}])",                   // not an object
      R"("user.id")",                              //
      "42",                                        //
      R"({"user":{"id")",                          // cut short
      R"({"user":)",                               //
      "{",                                         //
  };
  std::uint64_t expected = 0;
  for (std::string_view record : records) {
    INFO("record " << record);
    CHECK(policy.KeyFor(record, "/f", arena) == "web-1-nokey");
    CHECK(policy.fallbacks() == ++expected);
  }
  // The default fallback is random.
  auto random = Make(Spec(Kind::kJsonField, "id"));
  CHECK(IsRandomKey(random.KeyFor("not json", "/f", arena)));
  CHECK(random.fallbacks() == 1);
}

TEST_CASE("Regex keys: one group, a group named key, no match", "[partition_key]") {
  auto policy = Make(Spec(Kind::kRegex, R"(user=(\w+))", "none"));
  Arena arena;
  CHECK(policy.kind() == Kind::kRegex);
  CHECK(policy.KeyFor("GET /x user=alice status=200", "/f", arena) == "alice");
  CHECK(policy.KeyFor("user=bob user=carol", "/f", arena) == "bob");
  CHECK(policy.fallbacks() == 0);
  CHECK(policy.KeyFor("GET /x status=200", "/f", arena) == "none");
  CHECK(policy.KeyFor("", "/f", arena) == "none");
  CHECK(policy.fallbacks() == 2);

  auto named = Make(Spec(Kind::kRegex, R"((\d+)-(?P<key>[a-z]+)-(\d+))"));
  CHECK(named.KeyFor("id 12-abc-34", "/f", arena) == "abc");

  // A group that takes no part in the match, or captures nothing, gives no key.
  auto unset = Make(Spec(Kind::kRegex, R"(^(?:(\d+)-)?x)", "none"));
  CHECK(unset.KeyFor("12-x", "/f", arena) == "12");
  CHECK(unset.KeyFor("x", "/f", arena) == "none");
  auto empty = Make(Spec(Kind::kRegex, R"(id=(\w*))", "none"));
  CHECK(empty.KeyFor("id= next", "/f", arena) == "none");
  CHECK(unset.fallbacks() == 1);
  CHECK(empty.fallbacks() == 1);
}

TEST_CASE("A capture longer than 256 characters is cut at a character boundary", "[partition_key]") {
  auto regex = Make(Spec(Kind::kRegex, "key=(.*)"));
  auto json = Make(Spec(Kind::kJsonField, "k"));
  Arena arena;
  const struct {
    std::string_view name;
    std::string text;
    std::string key;
  } cases[] = {
      {"ASCII", std::string(300, 'a'), std::string(256, 'a')},
      {"2-byte", Repeat("\xc3\xa9", 300), Repeat("\xc3\xa9", 256)},
      {"3-byte", Repeat("\xe6\x97\xa5", 257), Repeat("\xe6\x97\xa5", 256)},
      {"4-byte", Repeat("\xf0\x9f\x98\x80", 1000), Repeat("\xf0\x9f\x98\x80", 256)},
      {"mixed at the cut", std::string(255, 'a') + "\xf0\x9f\x98\x80\xc3\xa9",
       std::string(255, 'a') + "\xf0\x9f\x98\x80"},
      {"exactly 256", Repeat("\xc3\xa9", 256), Repeat("\xc3\xa9", 256)},
      {"one character", "\xe2\x82\xac", "\xe2\x82\xac"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(regex.KeyFor("key=" + c.text, "/f", arena) == c.key);
    CHECK(json.KeyFor("{\"k\":\"" + c.text + "\"}", "/f", arena) == c.key);
  }
  CHECK(regex.fallbacks() == 0);
  CHECK(json.fallbacks() == 0);
  CHECK(json.KeyFor("{\"k\":" + std::string(300, '7') + "}", "/f", arena) == std::string(256, '7'));
}

TEST_CASE("A capture that is not UTF-8 falls back", "[partition_key]") {
  // \C matches any byte, so the capture is whatever lies between the brackets.
  auto policy = Make(Spec(Kind::kRegex, R"(key=<(\C*)>)", "bad-utf8"));
  Arena arena;
  const std::string_view bad[] = {
      "\xff",              // never a UTF-8 byte
      "ab\xfe",            //
      "\x80",              // a continuation byte alone
      "\xc3",              // cut short
      "\xe6\x97",          //
      "\xc0\xaf",          // overlong "/"
      "\xe0\x80\xaf",      // overlong
      "\xed\xa0\x80",      // a surrogate
      "\xf4\x90\x80\x80",  // past U+10FFFF
      "ok\xc3\xa9\xc3(",   // bad continuation
  };
  std::uint64_t expected = 0;
  for (std::string_view capture : bad) {
    INFO("capture " << capture);
    CHECK(policy.KeyFor("x key=<" + std::string(capture) + "> y", "/f", arena) == "bad-utf8");
    CHECK(policy.fallbacks() == ++expected);
  }
  // Bytes outside the capture do not matter, nor do bytes past the 256 characters kept.
  CHECK(policy.KeyFor("\xff key=<fine> \xfe", "/f", arena) == "fine");
  CHECK(policy.KeyFor("key=<" + std::string(256, 'b') + "\xff>", "/f", arena) == std::string(256, 'b'));
  CHECK(policy.fallbacks() == expected);

  // RE2 itself lets an encoded surrogate through a character class.
  auto word = Make(Spec(Kind::kRegex, "key=([^ ]+)", "bad-utf8"));
  CHECK(word.KeyFor("key=\xed\xa0\x80 y", "/f", arena) == "bad-utf8");
  CHECK(word.fallbacks() == 1);
}

TEST_CASE("The explicit hash key is checked and written the way Kinesis wants it", "[partition_key]") {
  PartitionKeySpec spec;
  spec.explicit_hash_key = "340282366920938463463374607431768211455";  // 2^128-1
  CHECK(Make(spec).ExplicitHashKey() == "340282366920938463463374607431768211455");
  spec.explicit_hash_key = "0";
  CHECK(Make(spec).ExplicitHashKey() == "0");
  spec.explicit_hash_key = "000170141183460469231731687303715884105728";  // 2^127, leading zeros
  CHECK(Make(spec).ExplicitHashKey() == "170141183460469231731687303715884105728");

  for (const char* bad : {"340282366920938463463374607431768211456", "-1", "12a", " 1", "1e3", "0x10",
                          "99999999999999999999999999999999999999999"}) {
    INFO("explicit hash key " << bad);
    spec.explicit_hash_key = bad;
    std::string message = CreateError(spec);
    CHECK(message.find("explicit hash key") != std::string::npos);
  }
}

TEST_CASE("Create rejects specs that cannot make keys, saying what is wrong", "[partition_key]") {
  using Catch::Matchers::Contains;
  CHECK_THAT(CreateError(Spec(Kind::kTemplate, "${host}")),
             Contains("unknown variable ${host}") && Contains("${hostname}, ${flow} and ${file}"));
  CHECK_THAT(CreateError(Spec(Kind::kTemplate, "a-${file")), Contains("unclosed ${ at byte 2"));
  CHECK_THAT(CreateError(Spec(Kind::kTemplate, "")), Contains("empty key"));
  CHECK_THAT(CreateError(Spec(Kind::kTemplate, "${hostname}"), KeyContext{"", "f"}), Contains("empty key"));
  CHECK_THAT(CreateError(Spec(Kind::kTemplate, std::string(257, 'k'))),
             Contains("257 characters") && Contains("at most 256"));
  CHECK(Make(Spec(Kind::kTemplate, Repeat("\xc3\xa9", 256))).kind() == Kind::kTemplate);
  CHECK_THAT(CreateError(Spec(Kind::kTemplate, "h-${hostname}"), KeyContext{Repeat("x", 300), "f"}),
             Contains("302 characters"));
  CHECK_THAT(CreateError(Spec(Kind::kTemplate, std::string(256, 'k') + "${file}")),
             Contains("leaves ${file} no room"));
  CHECK_THAT(CreateError(Spec(Kind::kTemplate, "bad\xff")), Contains("not valid UTF-8"));

  CHECK_THAT(CreateError(Spec(Kind::kJsonField, "")), Contains("field path is empty"));
  for (const char* path : {"a..b", ".a", "a.", "."}) {
    INFO("path " << path);
    CHECK_THAT(CreateError(Spec(Kind::kJsonField, path)), Contains("empty member name"));
  }

  CHECK_THAT(CreateError(Spec(Kind::kRegex, "")), Contains("regex is empty"));
  CHECK_THAT(CreateError(Spec(Kind::kRegex, "user=(\\w+")), Contains("invalid partition key regex"));
  CHECK_THAT(CreateError(Spec(Kind::kRegex, "user=\\w+")), Contains("no capturing group"));
  CHECK_THAT(CreateError(Spec(Kind::kRegex, "(a)(b)")),
             Contains("2 capturing groups") && Contains("(?P<key>"));
  CHECK_THAT(CreateError(Spec(Kind::kRegex, "(?P<other>a)(b)")), Contains("2 capturing groups"));

  CHECK_THAT(CreateError(Spec(Kind::kRegex, "(a)", "${nope}")),
             Contains("partition key fallback") && Contains("unknown variable ${nope}"));
  CHECK_THAT(CreateError(Spec(Kind::kRandom, "", "")), Contains("fallback") && Contains("\"random\""));
  CHECK_THAT(CreateError(Spec(Kind::kJsonField, "id", std::string(300, 'f'))), Contains("fallback"));
}

TEST_CASE("Keys per record, timed over 1M records of about 200 bytes", "[partition_key]") {
  // Records like an access log in JSON; the key field is nested and not first.
  std::vector<std::string> records;
  for (int i = 0; i < 1000; ++i) {
    char record[512];
    std::snprintf(record, sizeof record,
                  R"({"time":"2024-11-26T09:15:%02d.123Z","level":"info","host":"web-%d","method":"GET",)"
                  R"("path":"/api/v1/items?id=%d","status":200,"bytes":%d,"agent":"curl/8.5.0",)"
                  R"("user":{"plan":"pro","id":"u-%05d"}})",
                  i % 60, i % 7, i, i * 13, i);
    records.emplace_back(record);
  }
  const struct {
    std::string_view name;
    PartitionKeySpec spec;
    std::string_view first_key;
  } kinds[] = {
      {"random", PartitionKeySpec{}, ""},
      {"fixed", Spec(Kind::kTemplate, "web"), "web"},
      {"${file}", Spec(Kind::kTemplate, "${hostname}:${file}"), "web-1:/var/log/app/access.log"},
      {"json field user.id", Spec(Kind::kJsonField, "user.id"), "u-00000"},
      {"regex", Spec(Kind::kRegex, R"re("id":"([^"]*)")re"), "u-00000"},
  };
  constexpr std::size_t kRecords = 1000000;
  for (const auto& kind : kinds) {
    auto policy = Make(kind.spec);
    {
      Arena arena;
      std::string_view key = policy.KeyFor(records[0], "/var/log/app/access.log", arena);
      if (!kind.first_key.empty()) CHECK(key == kind.first_key);
    }
    std::size_t total = 0;
    auto start = std::chrono::steady_clock::now();
    // A fresh arena per batch of 1,000 records, as the packer would have.
    for (std::size_t b = 0; b < kRecords / records.size(); ++b) {
      Arena arena(64 * 1024);
      for (const std::string& record : records) {
        total += policy.KeyFor(record, "/var/log/app/access.log", arena).size();
      }
    }
    auto elapsed = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
    WARN("partition key " << kind.name << ": " << elapsed.count() / kRecords << " ns/record over " << kRecords
                          << " records of " << records[0].size() << " bytes");
    CHECK(total > 0);
    CHECK(policy.fallbacks() == 0);
  }
}

}  // namespace
}  // namespace ferry::kinesis
