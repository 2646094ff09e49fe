// RecordKey: a record's key from its file, a JSON field (one DOM parse on a reused pool) or an RE2 search.
#include "plugins/keys/record_key.h"

#include <re2/re2.h>

namespace ferry::plugins {

std::shared_ptr<const re2::RE2> CompileKeyRegex(const std::string& text, std::string* error) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_shared<const re2::RE2>(text, options);
  if (!regex->ok()) {
    *error = "not a valid regular expression: " + regex->error();
    return nullptr;
  }
  return regex;
}

RecordKeyReader::RecordKeyReader(const RecordKeySpec& spec) : spec_(spec) {
  if (spec_.kind == RecordKeySpec::Kind::kField) {
    buffer_ = std::make_unique<char[]>(2 * kBufferBytes);
    values_ = std::make_unique<Pool>(buffer_.get(), kBufferBytes);
    stack_ = std::make_unique<Pool>(buffer_.get() + kBufferBytes, kBufferBytes);
    doc_ = std::make_unique<Document>(values_.get(), 1024, stack_.get());
  }
}

RecordKeyReader::~RecordKeyReader() = default;

std::optional<std::string_view> RecordKeyReader::Read(std::string_view file, std::string_view record) {
  switch (spec_.kind) {
    case RecordKeySpec::Kind::kNone:
      return std::nullopt;
    case RecordKeySpec::Kind::kFile:
      return file;
    case RecordKeySpec::Kind::kRegex: {
      re2::StringPiece match[2];
      const int groups = spec_.regex->NumberOfCapturingGroups() > 0 ? 2 : 1;
      if (!spec_.regex->Match(re2::StringPiece(record.data(), record.size()), 0, record.size(),
                              re2::RE2::UNANCHORED, match, groups)) {
        return std::nullopt;
      }
      const re2::StringPiece& key = match[groups - 1];
      if (key.data() == nullptr) return std::nullopt;  // the group took no part in the match
      return std::string_view(key.data(), key.size());
    }
    case RecordKeySpec::Kind::kField: {
      doc_->SetNull();
      values_->Clear();  // each keeps its part of buffer_ and frees what outgrew it
      stack_->Clear();
      constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
      doc_->Parse<kFlags>(record.data(), record.size());
      if (doc_->HasParseError()) return std::nullopt;
      return spec_.field.FirstScalar(*doc_, scalar_);
    }
  }
  return std::nullopt;
}

}  // namespace ferry::plugins
