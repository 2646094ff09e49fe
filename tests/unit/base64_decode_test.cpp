// Tests of Base64Decode (plugins/lambda/base64_decode): RFC 4648's test vectors with and without padding,
// every byte value through the project's encoder and back, and what is refused: bytes outside the
// alphabet (whitespace, the URL-safe digits), padding in the middle or too much of it, lengths no
// encoding has.
#include "plugins/lambda/base64_decode.h"

#include <catch2/catch.hpp>

#include <string>

#include "agent/aws/json_body.h"

namespace ferry::plugins {
namespace {

std::string Decoded(std::string_view text) {
  std::string out = "prefix:";
  REQUIRE(AppendBase64Decoded(out, text));
  return out.substr(7);
}

bool Refused(std::string_view text) {
  std::string out = "kept";
  const bool refused = !AppendBase64Decoded(out, text) && !Base64DecodedSize(text);
  return refused && out == "kept";
}

TEST_CASE("base64 decodes RFC 4648's vectors, padded or not", "[lambda]") {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"Zg==", "f"},
                                                                   {"Zm8=", "fo"},
                                                                   {"Zm9v", "foo"},
                                                                   {"Zm9vYg==", "foob"},
                                                                   {"Zm9vYmE=", "fooba"},
                                                                   {"Zm9vYmFy", "foobar"}};
  for (auto [text, bytes] : vectors) {
    CHECK(Decoded(text) == bytes);
    CHECK(Base64DecodedSize(text) == bytes.size());
    std::string bare(text);
    while (!bare.empty() && bare.back() == '=') bare.pop_back();
    CHECK(Decoded(bare) == bytes);
  }
}

TEST_CASE("base64 gives back every byte value the encoder wrote", "[lambda]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    std::string text;
    aws::AppendBase64(text, std::string_view(all).substr(0, n));
    CHECK(Decoded(text) == all.substr(0, n));
  }
}

TEST_CASE("base64 refuses what is not base64", "[lambda]") {
  CHECK(Refused("not base64!"));
  CHECK(Refused("Zm9v\nYmFy"));  // a line break (MIME style)
  CHECK(Refused(" Zm9v"));
  CHECK(Refused("Zm9v-_"));  // URL-safe digits
  CHECK(Refused("Zg=a"));
  CHECK(Refused("Zg==Zg=="));  // padding in the middle
  CHECK(Refused("Z==="));
  CHECK(Refused("Zm9vY"));  // 5 digits: no byte count encodes to that
  CHECK(Refused("="));
  CHECK(Refused(std::string_view("Zm9v\0AAA", 8)));
}

}  // namespace
}  // namespace ferry::plugins
