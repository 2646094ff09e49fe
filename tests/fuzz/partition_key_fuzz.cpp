// Fuzz target: PartitionKeyPolicy::KeyFor on arbitrary records and file paths. The first byte picks the
// policy (a JSON field, a regex capture or a ${file} template, each with a fixed fallback key, or
// data_md5), the second where the file path ends and the record begins. The record is copied into an
// allocation of its exact size, so a read past its end (simdjson needs padding the record does not have) is
// caught by AddressSanitizer. Checks that every key is 1 to 256 characters of valid UTF-8 and that it is the
// key the rules give, against oracles that share no code with the policy: rapidjson for JSON records it
// accepts, RE2 called directly for captures, simdjson's UTF-8 validator for the cut, OpenSSL's one-shot MD5
// for data_md5 (the policy hashes through HashKeyOf and writes the hex itself). Single-threaded, like
// libFuzzer's driver.
#include <openssl/evp.h>
#include <re2/re2.h>
#include <simdjson.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/kinesis/partition_key_policy.h"

namespace {

using ferry::kinesis::PartitionKeyPolicy;
using ferry::kinesis::PartitionKeySpec;
using Kind = PartitionKeySpec::Kind;

constexpr std::string_view kFallback = "FB";

bool IsContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

std::size_t Chars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += IsContinuation(c) ? 0 : 1;
  return n;
}

bool ValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

// The key the rules make of value: all of it if it is valid UTF-8 of 1 to 256 characters, else its prefix
// that is valid UTF-8 of exactly 256 characters (there is at most one; the bytes after it do not matter,
// not even a stray continuation byte), else none.
std::optional<std::string_view> Rule(std::string_view value) {
  if (value.empty()) return std::nullopt;
  if (ValidUtf8(value) && Chars(value) <= PartitionKeyPolicy::kMaxKeyChars) return value;
  std::size_t chars = 0;
  for (std::size_t end = 1; end <= value.size() && end <= PartitionKeyPolicy::kMaxKeyBytes; ++end) {
    chars += IsContinuation(value[end - 1]) ? 0 : 1;  // lead bytes in value[0, end)
    if (chars > PartitionKeyPolicy::kMaxKeyChars) break;
    if (chars == PartitionKeyPolicy::kMaxKeyChars && ValidUtf8(value.substr(0, end)))
      return value.substr(0, end);
  }
  return std::nullopt;
}

void Expect(std::string_view key, std::optional<std::string_view> value) {
  std::optional<std::string_view> want = value ? Rule(*value) : std::nullopt;
  if (key != want.value_or(kFallback)) std::abort();
}

// Follows a dotted path through a rapidjson document, as the policy's spec describes.
const rapidjson::Value* Find(const rapidjson::Value& root, std::string_view path) {
  const rapidjson::Value* at = &root;
  for (;;) {
    const std::size_t dot = path.find('.');
    const std::string_view member = path.substr(0, dot);
    if (!at->IsObject()) return nullptr;
    auto it = at->FindMember(rapidjson::Value(rapidjson::StringRef(member.data(), member.size())));
    if (it == at->MemberEnd()) return nullptr;
    at = &it->value;
    if (dot == std::string_view::npos) return at;
    path.remove_prefix(dot + 1);
  }
}

// For JSON records rapidjson accepts in full, the key must be the field's string, cut, or for a number
// some text of the record; otherwise the fallback. Left out: records with escapes (the policy matches
// member names as written, rapidjson as unescaped), with NUL bytes (rapidjson takes one for the end of its
// input) and with deep nesting (simdjson stops at 1024 levels).
void CheckJson(std::string_view key, std::string_view record, std::string_view path) {
  if (record.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) return;
  std::size_t opens = 0;
  for (char c : record) opens += (c == '{' || c == '[') ? 1 : 0;
  if (opens > 1000) return;
  // The policy's rule: a record that is not valid UTF-8 anywhere is not JSON (rapidjson only validates
  // inside strings, so it would accept a stray byte before the object).
  if (!ValidUtf8(record)) return Expect(key, std::nullopt);
  rapidjson::Document doc;
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  doc.Parse<kFlags>(record.data(), record.size());
  if (doc.HasParseError()) return;
  const rapidjson::Value* value = Find(doc, path);
  if (value == nullptr || !(value->IsString() || value->IsNumber())) return Expect(key, std::nullopt);
  if (value->IsString()) return Expect(key, std::string_view(value->GetString(), value->GetStringLength()));
  if (key == kFallback || record.find(key) == std::string_view::npos) std::abort();
}

void CheckRegex(std::string_view key, std::string_view record, const re2::RE2& re) {
  const auto& named = re.NamedCapturingGroups();
  const int group = named.count("key") != 0 ? named.at("key") : 1;
  re2::StringPiece submatches[8];
  if (!re.Match(re2::StringPiece(record.data(), record.size()), 0, record.size(), re2::RE2::UNANCHORED,
                submatches, group + 1)) {
    return Expect(key, std::nullopt);
  }
  return Expect(key, std::string_view(submatches[group].data(), submatches[group].size()));
}

// data_md5: the MD5 of the whole record as 32 lowercase hex digits, whatever the record holds.
void CheckDataMd5(std::string_view key, std::string_view record) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(record.data(), record.size(), digest, &length, EVP_md5(), nullptr) != 1 || length != 16)
    std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string want;
  for (unsigned int i = 0; i < length; ++i) {
    want += kHex[digest[i] >> 4];
    want += kHex[digest[i] & 0xF];
  }
  if (key != want) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::size_t split = std::min<std::size_t>(data[1], input.size());
  const std::string path(input.substr(0, split));
  // An allocation of exactly the record's size, so AddressSanitizer sees any read past it.
  const std::size_t record_size = input.size() - split;
  std::unique_ptr<char[]> bytes(new char[record_size == 0 ? 1 : record_size]);
  if (record_size > 0) std::memcpy(bytes.get(), input.data() + split, record_size);
  const std::string_view record(bytes.get(), record_size);

  static const char* const kFields[] = {"id", "user.id", "a.b.c"};
  static const char* const kPatterns[] = {R"(id=(\w+))", R"(key=<(\C*)>)", R"(([^ ]+) (?P<key>[^ ]*))",
                                          R"re("id":"([^"]*)")re"};
  constexpr std::size_t kFieldCount = sizeof kFields / sizeof kFields[0];
  constexpr std::size_t kPatternCount = sizeof kPatterns / sizeof kPatterns[0];
  // The last choice, data_md5, came last, so the seeds keep the policies they were written for.
  const std::size_t choice = data[0] % (kFieldCount + kPatternCount + 2);

  PartitionKeySpec spec;
  spec.fallback = std::string(kFallback);
  if (choice < kFieldCount) {
    spec.kind = Kind::kJsonField;
    spec.text = kFields[choice];
  } else if (choice < kFieldCount + kPatternCount) {
    spec.kind = Kind::kRegex;
    spec.text = kPatterns[choice - kFieldCount];
  } else if (choice == kFieldCount + kPatternCount) {
    spec.kind = Kind::kTemplate;
    spec.text = "${file}";
  } else {
    spec.kind = Kind::kDataMd5;
  }
  auto created = PartitionKeyPolicy::Create(spec, {"host", "flow"});
  if (!created.ok()) std::abort();
  PartitionKeyPolicy& policy = *created;

  ferry::Arena arena(256);
  // Twice: the second call meets the state the first left (parser, buffer, file cache).
  for (int round = 0; round < 2; ++round) {
    const std::string_view key = policy.KeyFor(record, path, arena);
    if (key.empty() || key.size() > PartitionKeyPolicy::kMaxKeyBytes || !ValidUtf8(key) ||
        Chars(key) > PartitionKeyPolicy::kMaxKeyChars) {
      std::abort();
    }
    if (spec.kind == Kind::kJsonField) {
      CheckJson(key, record, spec.text);
    } else if (spec.kind == Kind::kRegex) {
      re2::RE2 re(spec.text);
      CheckRegex(key, record, re);
    } else if (spec.kind == Kind::kTemplate) {
      Expect(key, path);
    } else {
      CheckDataMd5(key, record);
    }
  }
  return 0;
}
