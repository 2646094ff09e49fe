// AgentJsonContext: the state of one agent.json conversion (agent_json.h): the text for positions, the
// errors and warnings found so far, where each ferry key came from, and the typed readers of agent values.
//
// The readers read values as the agent's Configuration class converts them: a string key also takes a
// number or true/false (as its text), an integer or boolean key also takes a string spelling one, and null
// is as if the key were absent (so is "" where the agent tests for an empty string). What the agent would
// refuse is an error here, at the value.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/located_json.h"

namespace ferry::config {

class AgentJsonContext {
 public:
  AgentJsonContext(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

  // "file:line:column" of value.
  std::string Where(const JsonValue& value) const;
  std::string Where(std::size_t offset) const;
  void Fail(const JsonValue& value, std::string_view key, std::string_view message);
  void FailAt(std::size_t offset, std::string_view key, std::string_view message);
  // Warns about key once per `once` (a key's bare name: the same key in ten flows is one warning).
  void Warn(const JsonValue& value, std::string_view key, std::string_view once, std::string_view message);
  // Records that ferry_path was converted from the agent key at value.
  void Origin(const std::string& ferry_path, const JsonValue& value, std::string_view key);

  // Each returns false when the value is absent (null) or wrong (then with an error).
  bool ReadText(const JsonValue& value, std::string_view key, std::string& out);
  // As ReadText, and "" is absent too.
  bool ReadNonEmptyText(const JsonValue& value, std::string_view key, std::string& out);
  bool ReadInteger(const JsonValue& value, std::string_view key, std::int64_t min, std::int64_t max,
                   std::int64_t& out);
  bool ReadBool(const JsonValue& value, std::string_view key, bool& out);
  bool ReadTextList(const JsonValue& value, std::string_view key, std::vector<std::string>& out);
  // One of words (the agent's enum names, exact case), or an error listing them.
  bool ReadWord(const JsonValue& value, std::string_view key, const std::vector<std::string_view>& words,
                std::string& out);
  // An object, or an error; keys given twice are errors (the agent keeps the last one silently).
  bool CheckObject(const JsonValue& value, std::string_view key);

  const std::vector<std::string>& errors() const { return errors_; }
  std::vector<std::string>& warnings() { return warnings_; }
  std::map<std::string, std::string, std::less<>>& origins() { return origins_; }
  const std::string& source() const { return source_; }

 private:
  std::string_view text_;
  std::string source_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
  std::set<std::string, std::less<>> warned_;
  std::map<std::string, std::string, std::less<>> origins_;
};

// value as a YAML flow scalar that reads back as exactly value: single-quoted when every character is
// printable, else double-quoted with escapes.
std::string YamlQuote(std::string_view value);

// One line of the converted ferry.yaml: `text` (e.g. "start_at: end") indented, then "# comment" when
// there is one. Control characters in the comment become '?', so a comment stays on its line.
std::string YamlLine(std::size_t indent, std::string_view text, std::string_view comment = "");

}  // namespace ferry::config
