// PartitionKeyPolicy: each kind reduces to a few steps fixed in Create(). Templates are resolved there
// except for ${file}, whose keys are built once per path and kept. A JSON field is found with simdjson
// On-Demand, which reads only as far as the field, on a copy of the record in a padded buffer the policy
// reuses. On-Demand runs simdjson's builtin kernel, the one the compiler flags allow (the portable one in a
// baseline x86-64 build); on records of about 200 bytes it measured as fast as the AVX-512 kernel, since
// the cost there is per record, not per byte. A regex capture is one RE2 search. Captures are checked and
// cut by one walk over at most 256 characters, then copied into the arena, since the parser's buffer and
// the record may not outlive the call or the key.
#include "agent/kinesis/partition_key_policy.h"

#include <re2/re2.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/kinesis/hash_key.h"
#include "agent/kinesis/partition_keys.h"

namespace ferry::kinesis {

namespace {

using Kind = PartitionKeySpec::Kind;

constexpr std::size_t kNotUtf8 = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kAllChars = std::numeric_limits<std::size_t>::max();

// Walks at most max_chars characters at the start of text. Returns their length in bytes and sets chars to
// their count, or returns kNotUtf8 when they are not valid UTF-8 (overlong forms, surrogates and code
// points past U+10FFFF are not, as Kinesis would reject them).
std::size_t Utf8Prefix(std::string_view text, std::size_t max_chars, std::size_t& chars) {
  std::size_t i = 0;
  chars = 0;
  while (i < text.size() && chars < max_chars) {
    const auto lead = static_cast<unsigned char>(text[i]);
    ++chars;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The lead byte gives the sequence length, its payload bits and the least code point that needs it.
    std::size_t len = 4;
    std::uint32_t code = lead & 0x07;
    std::uint32_t min = 0x10000;
    if ((lead & 0xE0) == 0xC0) {
      len = 2;
      code = lead & 0x1F;
      min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      len = 3;
      code = lead & 0x0F;
      min = 0x800;
    } else if ((lead & 0xF8) != 0xF0) {
      return kNotUtf8;
    }
    if (text.size() - i < len) return kNotUtf8;
    for (std::size_t k = 1; k < len; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return kNotUtf8;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return kNotUtf8;
    i += len;
  }
  return i;
}

// The length in bytes of the key that text makes (its first 256 characters), or 0 when it makes none.
std::size_t KeyBytes(std::string_view text) {
  std::size_t chars;
  std::size_t bytes = Utf8Prefix(text, PartitionKeyPolicy::kMaxKeyChars, chars);
  return bytes == kNotUtf8 ? 0 : bytes;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Whether text is exactly one JSON number (RFC 8259, section 6). On-Demand classifies a value as a number by
// its first byte and hands back its raw text unchecked.
bool IsJsonNumber(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') ++i;
  if (i < n && text[i] == '0') {
    ++i;
  } else if (i < n && text[i] >= '1' && text[i] <= '9') {
    while (i < n && IsDigit(text[i])) ++i;
  } else {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (i == n || !IsDigit(text[i])) return false;
    while (i < n && IsDigit(text[i])) ++i;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (i == n || !IsDigit(text[i])) return false;
    while (i < n && IsDigit(text[i])) ++i;
  }
  return i == n;
}

// A raw token runs up to the next token, so it carries the whitespace after it.
std::string_view TrimJsonSpace(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0 &&
         (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\n' || text[end - 1] == '\r')) {
    --end;
  }
  return text.substr(0, end);
}

// Appends rather than `"\"" + std::string(text)`: gcc 12 at -O3 reports a false -Wrestrict on the latter.
std::string Quoted(std::string_view text) {
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted += '"';
  quoted += text;
  quoted += '"';
  return quoted;
}

// Looks paths up by string_view, so a lookup costs no allocation.
struct PathHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view path) const { return std::hash<std::string_view>{}(path); }
};

// A key template with ${hostname} and ${flow} already put in: the text between its ${file}s. Keys for a
// path are built once and kept for the policy's life (views into them are handed out), up to
// kMaxCachedFiles paths; the keys of further paths are built into the arena. Records of a batch come from
// one file, so the path of the last call is checked first. Not moved once used: last_key_ points into it.
class KeyTemplate {
 public:
  // `what` names the template in error messages ("partition key template", "partition key fallback").
  static Result<KeyTemplate> Parse(std::string_view text, const KeyContext& context, std::string_view what) {
    std::vector<std::string> pieces(1);
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t open = text.find("${", at);
      if (open == std::string_view::npos) {
        pieces.back().append(text.substr(at));
        break;
      }
      pieces.back().append(text.substr(at, open - at));
      const std::size_t close = text.find('}', open + 2);
      if (close == std::string_view::npos) {
        return Error(ErrorCode::kInvalidArgument, std::string(what) + " " + Quoted(text) +
                                                      " has an unclosed ${ at byte " + std::to_string(open));
      }
      const std::string_view name = text.substr(open + 2, close - open - 2);
      if (name == "hostname") {
        pieces.back().append(context.hostname);
      } else if (name == "flow") {
        pieces.back().append(context.flow);
      } else if (name == "file") {
        pieces.emplace_back();
      } else {
        return Error(ErrorCode::kInvalidArgument,
                     std::string(what) + " " + Quoted(text) + " uses unknown variable ${" +
                         std::string(name) + "}; the variables are ${hostname}, ${flow} and ${file}");
      }
      at = close + 1;
    }

    std::string fixed;
    for (const std::string& piece : pieces) fixed += piece;
    std::size_t chars;
    const std::size_t bytes = Utf8Prefix(fixed, kAllChars, chars);
    const std::string prefix = std::string(what) + " " + Quoted(text);
    if (bytes == kNotUtf8) {
      return Error(ErrorCode::kInvalidArgument, prefix + " is not valid UTF-8 once its variables are put in");
    }
    const bool has_file = pieces.size() > 1;
    if (!has_file && chars == 0) {
      return Error(ErrorCode::kInvalidArgument,
                   prefix + " makes an empty key; Kinesis needs at least one character");
    }
    if (!has_file && chars > PartitionKeyPolicy::kMaxKeyChars) {
      return Error(ErrorCode::kInvalidArgument, prefix + " makes a key of " + std::to_string(chars) +
                                                    " characters; Kinesis allows at most 256");
    }
    if (has_file && chars >= PartitionKeyPolicy::kMaxKeyChars) {
      return Error(ErrorCode::kInvalidArgument, prefix + " has " + std::to_string(chars) +
                                                    " characters besides ${file}, which leaves ${file} no "
                                                    "room in Kinesis's 256");
    }
    return KeyTemplate(std::move(pieces));
  }

  // The key for a record of file_path, or empty when the path cannot make one (not UTF-8, or empty in a
  // template that is just ${file}).
  std::string_view For(std::string_view file_path, Arena& arena) {
    if (pieces_.size() == 1) return pieces_[0];
    if (!has_last_ || file_path != last_path_) Remember(file_path);
    if (last_kept_ || last_key_.empty()) return last_key_;
    return arena.Copy(last_key_);
  }

 private:
  explicit KeyTemplate(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}

  void Remember(std::string_view file_path) {
    last_path_.assign(file_path);
    has_last_ = true;
    if (auto it = kept_.find(file_path); it != kept_.end()) {
      last_key_ = it->second;
      last_kept_ = true;
      return;
    }
    std::string key = pieces_[0];
    for (std::size_t i = 1; i < pieces_.size(); ++i) {
      key.append(file_path);
      key.append(pieces_[i]);
    }
    key.resize(KeyBytes(key));
    if (kept_.size() < PartitionKeyPolicy::kMaxCachedFiles) {
      // Map nodes do not move, so the view stays valid as the map grows.
      last_key_ = kept_.emplace(std::string(file_path), std::move(key)).first->second;
      last_kept_ = true;
    } else {
      spill_ = std::move(key);
      last_key_ = spill_;
      last_kept_ = false;
    }
  }

  std::vector<std::string> pieces_;  // one more than there are ${file}s; one alone is a fixed key
  std::unordered_map<std::string, std::string, PathHash, std::equal_to<>> kept_;  // path -> key or ""
  std::string spill_;  // the key of the last path beyond the kept ones
  std::string last_path_;
  std::string_view last_key_;  // into kept_ or spill_
  bool last_kept_ = false;
  bool has_last_ = false;
};

}  // namespace

// The policy's state, on the heap; Create() fills in what the spec asks for.
struct PartitionKeyPolicy::Impl {
  std::string_view KeyFor(std::string_view record, std::string_view file_path, Arena& arena) {
    switch (kind) {
      case Kind::kRandom:
        return Random(arena);
      case Kind::kTemplate: {
        std::string_view key = key_template->For(file_path, arena);
        return key.empty() ? Fallback(file_path, arena) : key;
      }
      case Kind::kJsonField:
        return Captured(JsonField(record), file_path, arena);
      case Kind::kRegex:
        return Captured(RegexCapture(record), file_path, arena);
      case Kind::kDataMd5:
        return DataMd5(record, arena);
    }
    return Random(arena);
  }

  // Equal records get equal keys, so they go to the same shard; hex is valid UTF-8 and 32 characters.
  static std::string_view DataMd5(std::string_view record, Arena& arena) {
    static constexpr char kHex[] = "0123456789abcdef";
    const HashKey md5 = HashKeyOf(record);
    char* key = arena.Allocate(32);
    for (int i = 0; i < 16; ++i) {
      key[i] = kHex[(md5.high >> (60 - 4 * i)) & 0xF];
      key[16 + i] = kHex[(md5.low >> (60 - 4 * i)) & 0xF];
    }
    return {key, 32};
  }

  std::string_view Random(Arena& arena) {
    char* key = arena.Allocate(RandomPartitionKeys::kKeyBytes);
    random.Next(key);
    return {key, RandomPartitionKeys::kKeyBytes};
  }

  std::string_view Fallback(std::string_view file_path, Arena& arena) {
    ++fallbacks;
    if (fallback) {
      std::string_view key = fallback->For(file_path, arena);
      if (!key.empty()) return key;
    }
    return Random(arena);
  }

  // A capture's bytes may not outlive this call, so the key made of them goes into the arena.
  std::string_view Captured(std::string_view capture, std::string_view file_path, Arena& arena) {
    const std::size_t bytes = KeyBytes(capture);
    if (bytes == 0) return Fallback(file_path, arena);
    return arena.Copy(capture.substr(0, bytes));
  }

  // The field's text: a string unescaped (a view into the parser, valid until the next record) or a number
  // as written (a view into the padded buffer). Empty when the record is not a JSON object, or the field is
  // missing or neither a string nor a number.
  std::string_view JsonField(std::string_view record) {
    namespace od = simdjson::ondemand;
    const std::size_t need = record.size() + simdjson::SIMDJSON_PADDING;
    if (need > padded_capacity) {
      padded_capacity = std::max(need, 2 * padded_capacity);
      padded = std::make_unique_for_overwrite<char[]>(padded_capacity);
    }
    if (!record.empty()) std::memcpy(padded.get(), record.data(), record.size());
    // Only the padding's readability matters to simdjson; zeros keep a stale record's tail out of reach.
    std::memset(padded.get() + record.size(), 0, simdjson::SIMDJSON_PADDING);

    od::document doc;
    if (parser.iterate(padded.get(), record.size(), padded_capacity).get(doc) != simdjson::SUCCESS) return {};
    od::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) return {};
    od::value value;
    for (std::size_t i = 0; i < field_path.size(); ++i) {
      if (object.find_field_unordered(field_path[i]).get(value) != simdjson::SUCCESS) return {};
      if (i + 1 < field_path.size() && value.get_object().get(object) != simdjson::SUCCESS) return {};
    }
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return {};
    std::string_view text;
    if (type == od::json_type::string) {
      if (value.get_string().get(text) != simdjson::SUCCESS) return {};
      return text;
    }
    if (type == od::json_type::number) {
      text = TrimJsonSpace(value.raw_json_token());
      return IsJsonNumber(text) ? text : std::string_view();
    }
    return {};
  }

  // The key group's capture of the first match, or empty when there is none.
  std::string_view RegexCapture(std::string_view record) {
    const re2::StringPiece text(record.data(), record.size());
    if (!regex->Match(text, 0, text.size(), re2::RE2::UNANCHORED, submatches.data(),
                      static_cast<int>(submatches.size()))) {
      return {};
    }
    const re2::StringPiece& capture = submatches[static_cast<std::size_t>(group)];
    return {capture.data(), capture.size()};
  }

  Kind kind = Kind::kRandom;
  std::optional<KeyTemplate> key_template;  // kTemplate
  std::optional<KeyTemplate> fallback;      // none: random
  std::vector<std::string> field_path;      // kJsonField
  std::unique_ptr<const re2::RE2> regex;
  int group = 0;                             // the capturing group of regex that holds the key
  std::vector<re2::StringPiece> submatches;  // group + 1, reused by every match
  std::string explicit_hash_key;
  std::uint64_t fallbacks = 0;
  RandomPartitionKeys random;
  simdjson::ondemand::parser parser;
  std::unique_ptr<char[]> padded;  // the record being parsed, then SIMDJSON_PADDING zeros
  std::size_t padded_capacity = 0;
};

Result<PartitionKeyPolicy> PartitionKeyPolicy::Create(const PartitionKeySpec& spec,
                                                      const KeyContext& context) {
  auto impl = std::make_unique<Impl>();
  impl->kind = spec.kind;
  switch (spec.kind) {
    case Kind::kRandom:
    case Kind::kDataMd5:
      break;
    case Kind::kTemplate: {
      auto parsed = KeyTemplate::Parse(spec.text, context, "partition key template");
      if (!parsed.ok()) return parsed.error();
      impl->key_template.emplace(std::move(parsed).value());
      break;
    }
    case Kind::kJsonField: {
      if (spec.text.empty()) return Error(ErrorCode::kInvalidArgument, "partition key field path is empty");
      std::string_view path = spec.text;
      for (;;) {
        const std::size_t dot = path.find('.');
        const std::string_view member = path.substr(0, dot);
        if (member.empty()) {
          return Error(ErrorCode::kInvalidArgument,
                       "partition key field path " + Quoted(spec.text) +
                           " has an empty member name; write members joined by single dots (user.id)");
        }
        impl->field_path.emplace_back(member);
        if (dot == std::string_view::npos) break;
        path.remove_prefix(dot + 1);
      }
      break;
    }
    case Kind::kRegex: {
      if (spec.text.empty()) return Error(ErrorCode::kInvalidArgument, "partition key regex is empty");
      re2::RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_unique<const re2::RE2>(spec.text, options);
      if (!regex->ok()) {
        return Error(ErrorCode::kInvalidArgument,
                     "invalid partition key regex " + Quoted(spec.text) + ": " + regex->error());
      }
      const int groups = regex->NumberOfCapturingGroups();
      const auto& named = regex->NamedCapturingGroups();
      if (auto key = named.find("key"); key != named.end()) {
        impl->group = key->second;
      } else if (groups == 1) {
        impl->group = 1;
      } else if (groups == 0) {
        return Error(ErrorCode::kInvalidArgument, "partition key regex " + Quoted(spec.text) +
                                                      " has no capturing group; put the key in one: (...)");
      } else {
        return Error(ErrorCode::kInvalidArgument,
                     "partition key regex " + Quoted(spec.text) + " has " + std::to_string(groups) +
                         " capturing groups; use one, or name the key's group (?P<key>...)");
      }
      impl->submatches.resize(static_cast<std::size_t>(impl->group) + 1);
      impl->regex = std::move(regex);
      break;
    }
    default:
      return Error(ErrorCode::kInvalidArgument, "unknown partition key kind");
  }

  if (spec.fallback != "random") {
    auto parsed = KeyTemplate::Parse(spec.fallback, context, "partition key fallback");
    if (!parsed.ok()) {
      return Error(ErrorCode::kInvalidArgument, parsed.error().message() + " (use \"random\" or a template)");
    }
    impl->fallback.emplace(std::move(parsed).value());
  }

  if (!spec.explicit_hash_key.empty()) {
    auto parsed = ParseHashKey(spec.explicit_hash_key);
    if (!parsed.ok()) {
      return Error(ErrorCode::kInvalidArgument, "invalid explicit hash key: " + parsed.error().message());
    }
    impl->explicit_hash_key = ToDecimal(*parsed);
  }
  return PartitionKeyPolicy(std::move(impl));
}

PartitionKeyPolicy::PartitionKeyPolicy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PartitionKeyPolicy::PartitionKeyPolicy(PartitionKeyPolicy&&) noexcept = default;
PartitionKeyPolicy& PartitionKeyPolicy::operator=(PartitionKeyPolicy&&) noexcept = default;
PartitionKeyPolicy::~PartitionKeyPolicy() = default;

std::string_view PartitionKeyPolicy::KeyFor(std::string_view record, std::string_view file_path,
                                            Arena& arena) {
  return impl_->KeyFor(record, file_path, arena);
}

std::string_view PartitionKeyPolicy::ExplicitHashKey() const {
  return impl_->explicit_hash_key;
}

std::uint64_t PartitionKeyPolicy::fallbacks() const {
  return impl_->fallbacks;
}

PartitionKeySpec::Kind PartitionKeyPolicy::kind() const {
  return impl_->kind;
}

}  // namespace ferry::kinesis
