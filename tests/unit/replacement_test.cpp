// Tests of what redact puts in a secret's place (plugins/redact/replacement.h): fixed text, masks (the
// last characters kept, never more than half, separators kept or not, UTF-8 characters masked whole) and
// HMAC-SHA256 tokens (a published test vector, the same token for the same value, a key file that is
// missing, empty, a folder or too large refused with its name).
#include "plugins/redact/replacement.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "tests/unit/scratch_dir.h"

namespace ferry::plugins::redact {
namespace {

std::string Apply(const ReplaceSpec& spec, std::string_view value, std::string_view name = "p") {
  auto r = Replacement::Make(spec);
  REQUIRE(r.ok());
  std::string out = "<";
  r->Append(out, name, value);
  return out + ">";
}

ReplaceSpec Mask(std::uint64_t keep_last, bool keep_separators = true, char c = '*') {
  ReplaceSpec s;
  s.kind = ReplaceSpec::Kind::kMask;
  s.keep_last = keep_last;
  s.keep_separators = keep_separators;
  s.mask_char = c;
  return s;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST_CASE("a fixed replacement is its text, empty included", "[redact]") {
  ReplaceSpec s;
  CHECK(Apply(s, "secret") == "<[REDACTED]>");
  s.text = "";
  CHECK(Apply(s, "secret") == "<>");
}

TEST_CASE("a mask keeps the last characters and the separators", "[redact]") {
  CHECK(Apply(Mask(4), "4111 1111 1111 1234") == "<**** **** **** 1234>");
  CHECK(Apply(Mask(4, false), "4111 1111 1111 1234") == "<***************1234>");
  CHECK(Apply(Mask(0), "abc-def") == "<***-***>");
  CHECK(Apply(Mask(4, true, '#'), "123-45-6789") == "<###-##-6789>");
  CHECK(Apply(Mask(2), "a.b@c.de") == "<*.*@*.de>");
}

TEST_CASE("a mask never shows more than half of a secret", "[redact]") {
  CHECK(Apply(Mask(4), "abc") == "<**c>");
  CHECK(Apply(Mask(4), "abcdef") == "<***def>");
  CHECK(Apply(Mask(64), "ab") == "<*b>");
  CHECK(Apply(Mask(4), "x") == "<*>");
}

TEST_CASE("a mask masks a UTF-8 character as one and keeps it whole", "[redact]") {
  CHECK(Apply(Mask(0), "pässwörd") == "<********>");
  CHECK(Apply(Mask(2), "pässwörd") == "<******rd>");
  CHECK(Apply(Mask(3), "pässwörd") == "<*****örd>");
}

TEST_CASE("a hash is [name:16 hex digits of HMAC-SHA256], the same for the same value", "[redact]") {
  testing::ScratchDir dir;
  WriteFile(dir / "k", "key");
  ReplaceSpec s;
  s.kind = ReplaceSpec::Kind::kHash;
  s.key_file = dir / "k";
  // HMAC_SHA256("key", "The quick brown fox jumps over the lazy dog") = f7bc83f430538424b13298e6aa6fb143...
  CHECK(Apply(s, "The quick brown fox jumps over the lazy dog", "email") == "<[email:f7bc83f430538424]>");
  CHECK(Apply(s, "a@b.example") == Apply(s, "a@b.example"));
  CHECK(Apply(s, "a@b.example") != Apply(s, "a@c.example"));
  WriteFile(dir / "k", "key\n");  // the whole file is the key, its newline too
  CHECK(Apply(s, "The quick brown fox jumps over the lazy dog", "email") != "<[email:f7bc83f430538424]>");
}

TEST_CASE("a hash key file that cannot serve is refused, naming it", "[redact]") {
  testing::ScratchDir dir;
  ReplaceSpec s;
  s.kind = ReplaceSpec::Kind::kHash;
  auto refused = [&s](const std::string& path, const std::string& why) {
    s.key_file = path;
    auto r = Replacement::Make(s);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    CHECK(r.error().message().find(path) != std::string::npos);
    CHECK(r.error().message().find(why) != std::string::npos);
  };
  refused(dir / "missing", "No such file");
  WriteFile(dir / "empty", "");
  refused(dir / "empty", "empty");
  WriteFile(dir / "large", std::string(kMaxKeyBytes + 1, 'k'));
  refused(dir / "large", "larger than");
  refused(dir.path(), dir.path());
  WriteFile(dir / "ok", std::string(kMaxKeyBytes, 'k'));
  s.key_file = dir / "ok";
  CHECK(Replacement::Make(s).ok());
}

}  // namespace
}  // namespace ferry::plugins::redact
