// JsonBody: what the request codecs of the JSON 1.1 APIs share: a rapidjson output stream that appends to
// the request body, and base64 written straight into it (record bytes are copied once, as base64).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::aws {

// A rapidjson output stream over a std::string that keeps growing.
class StringOut {
 public:
  using Ch = char;
  explicit StringOut(std::string& s) : s_(s) {}
  void Put(char c) { s_.push_back(c); }
  void Flush() {}

 private:
  std::string& s_;
};

// Length of the standard base64 (with padding) of n bytes.
constexpr std::size_t Base64Size(std::size_t n) {
  return 4 * ((n + 2) / 3);
}

// Appends the standard base64 of data to out.
void AppendBase64(std::string& out, std::string_view data);

}  // namespace ferry::aws
