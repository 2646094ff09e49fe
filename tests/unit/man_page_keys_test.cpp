// man/ferry.yaml.5 against the key table `ferry check --keys` prints (config::DescribeKeys): every key the
// parser knows has an entry on the page, and every entry the page gives a ferry.yaml key is a key the
// parser knows. An entry is a .TP whose term line names the key in bold (".BR spool.mode \" (...)\"";
// several keys in one term count each); its full path comes from the section it is in (FLOWS adds
// "flows[].", each plugin's .SS under PLUGINS "flows[].plugins[].NAME."). Sections about other files
// (AGENT.JSON) and prose sections are not read, so their .TP terms are not keys.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agent/config/config.h"

namespace ferry::config {
namespace {

std::string ReadPage(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The arguments of a troff request line: words, or "quoted strings" with their quotes taken off.
std::vector<std::string> RequestArguments(const std::string& line) {
  std::vector<std::string> args;
  std::size_t i = line.find(' ');
  while (i != std::string::npos && i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i == line.size()) break;
    std::string arg;
    if (line[i] == '"') {
      const std::size_t end = line.find('"', i + 1);
      arg = line.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      i = end == std::string::npos ? end : end + 1;
    } else {
      const std::size_t end = line.find(' ', i);
      arg = line.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end;
    }
    args.push_back(arg);
  }
  return args;
}

bool LooksLikeKey(const std::string& word) {
  if (word.empty()) return false;
  for (char c : word)
    // Upper case for the Kinesis Agent's names a plugin also takes (parse's customFieldNames).
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
      return false;
  return word.front() != '.' && word.back() != '.';
}

// The bold words of a .TP term: all of ".B", the 1st, 3rd, ... arguments of ".BR".
std::vector<std::string> BoldWords(const std::string& term) {
  std::vector<std::string> words;
  const auto args = RequestArguments(term);
  if (term.starts_with(".B ")) {
    if (!args.empty()) words.push_back(args[0]);
  } else if (term.starts_with(".BR ")) {
    for (std::size_t i = 0; i < args.size(); i += 2) words.push_back(args[i]);
  }
  return words;
}

// Each key section of the page with the prefix its terms are written under.
const std::map<std::string, std::string>& KeySections() {
  static const std::map<std::string, std::string> sections = {
      {"TOP-LEVEL KEYS", ""}, {"SPOOL", ""},  {"RETRY", ""}, {"METRICS", ""}, {"AWS", ""},
      {"FLOWS", "flows[]."},  {"PLUGINS", ""}};
  return sections;
}

std::set<std::string> DocumentedKeys(const std::string& page) {
  std::set<std::string> keys;
  const auto lines = Lines(page);
  std::string section;
  std::string plugin;  // the .SS under PLUGINS
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.starts_with(".SH ")) {
      section = line.substr(4);
      plugin.clear();
    } else if (line.starts_with(".SS ") && section == "PLUGINS") {
      plugin = line.substr(4);
      keys.insert("flows[].plugins[]." + plugin);
    } else if (line == ".TP" && i + 1 < lines.size()) {
      const auto at = KeySections().find(section);
      if (at == KeySections().end()) continue;
      std::string prefix = at->second;
      if (section == "PLUGINS") {
        if (plugin.empty()) continue;
        prefix = "flows[].plugins[]." + plugin + ".";
      }
      for (const auto& word : BoldWords(lines[i + 1]))
        if (LooksLikeKey(word)) keys.insert(prefix + word);
    }
  }
  return keys;
}

std::set<std::string> TableKeys() {
  std::set<std::string> keys;
  for (const auto& line : Lines(DescribeKeys())) {
    const std::string key = line.substr(0, line.find(' '));
    if (!key.empty()) keys.insert(key);
  }
  return keys;
}

std::string Listed(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& key : keys) out += "\n  " + key;
  return out;
}

std::string ManPath() {
  return std::string(FERRY_MAN_DIR) + "/ferry.yaml.5";
}

}  // namespace

TEST_CASE("The man page parser reads every key of a term, under its section's prefix", "[man]") {
  const std::string page =
      ".SH TOP-LEVEL KEYS\n.TP\n.BR state_dir \" (string)\"\nFolder.\n"
      ".SH AWS\n.TP\n.BR aws.access_key_id \", \" aws.secret_access_key \" (strings)\"\n"
      ".SH FLOWS\n.TP\n.B name\n.TP\n.BR multiline.start \" (RE2)\"\n"
      ".SH PLUGINS\n.TP\n.B ignored\n.SS grep\ndoc\n.TP\n.BR include \" (regex)\"\n"
      ".SH AGENT.JSON\n.TP\n.B filePattern\n.TP\n.B kinesis.region\n";
  CHECK(DocumentedKeys(page) == std::set<std::string>{"state_dir", "aws.access_key_id",
                                                      "aws.secret_access_key", "flows[].name",
                                                      "flows[].multiline.start", "flows[].plugins[].grep",
                                                      "flows[].plugins[].grep.include"});
}

TEST_CASE("man/ferry.yaml.5 documents every key ferry check --keys lists, and no other", "[man][config]") {
  const std::set<std::string> table = TableKeys();
  const std::set<std::string> documented = DocumentedKeys(ReadPage(ManPath()));
  // The table has sections and plugins of its own, not only leaves: a sanity check that both were read.
  REQUIRE(table.count("spool.mode") == 1);
  REQUIRE(table.count("flows[].plugins[].redact.patterns") == 1);
  std::set<std::string> missing;
  std::set<std::string> unknown;
  for (const auto& key : table)
    if (documented.count(key) == 0) missing.insert(key);
  for (const auto& key : documented)
    if (table.count(key) == 0) unknown.insert(key);
  INFO("keys of `ferry check --keys` without a .TP entry in " << ManPath() << ":" << Listed(missing));
  CHECK(missing.empty());
  INFO("entries of " << ManPath() << " that are not keys ferry knows:" << Listed(unknown));
  CHECK(unknown.empty());
}

}  // namespace ferry::config
