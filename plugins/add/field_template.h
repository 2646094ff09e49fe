// FieldTemplate: the value of one field the add plugin adds: text with ${hostname}, ${file} and ${flow} in
// it. "$${" writes a literal "${"; any other '$' is itself. An unknown ${name} or a "${" without its "}"
// is an error the config reports where the value is written.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::plugins {

class FieldTemplate {
 public:
  // The template written as source, or nullopt with *error saying why.
  static std::optional<FieldTemplate> Parse(std::string_view source, std::string* error);

  const std::string& source() const { return source_; }
  // Whether it names ${file}, so its text differs from file to file.
  bool uses_file() const;
  // Appends the text with the variables filled in.
  void AppendTo(std::string& out, std::string_view hostname, std::string_view flow,
                std::string_view file) const;

 private:
  enum class Part { kText, kHostname, kFile, kFlow };
  struct Piece {
    Part part;
    std::string text;  // for kText
  };
  std::string source_;
  std::vector<Piece> pieces_;
};

}  // namespace ferry::plugins
