// Tests of the content check: NUL bytes and invalid UTF-8 are found per record, clean text costs one pass.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "agent/source/content_check.h"

namespace ferry {
namespace {

// Records of `region` cut at newlines, as the framer would.
std::vector<Record> Lines(std::string_view region) {
  std::vector<Record> out;
  std::size_t from = 0;
  while (from < region.size()) {
    std::size_t nl = region.find('\n', from);
    if (nl == std::string_view::npos) nl = region.size();
    out.push_back({region.substr(from, nl - from), nl + 1});
    from = nl + 1;
  }
  return out;
}

TEST_CASE("Clean text has no findings", "[content_check]") {
  std::string text = "plain ascii\nUTF-8 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n";
  auto found = CheckContent(text, Lines(text));
  CHECK_FALSE(found.any());
}

TEST_CASE("NUL bytes and invalid UTF-8 are counted per record, with the first offset", "[content_check]") {
  using namespace std::string_literals;
  std::string text = "ok\n"s + "nul\0here\n"s + "bad \xff\n"s + "both \xc3\0\n"s + "ok again\n"s;
  auto records = Lines(text);
  REQUIRE(records.size() == 5);
  auto found = CheckContent(text, records);
  CHECK(found.nul_records == 2);
  CHECK(found.invalid_utf8_records == 2);
  CHECK(found.first_end_offset == records[1].end_offset);
}

TEST_CASE("A piece split inside a multi-byte character is invalid although the region is not",
          "[content_check]") {
  std::string text =
      "ab\xc3\xa9"
      "cd";  // é split after its first byte
  std::vector<Record> pieces{{std::string_view(text).substr(0, 3), 3}, {std::string_view(text).substr(3), 6}};
  auto found = CheckContent(text, pieces);
  CHECK(found.invalid_utf8_records == 2);
  CHECK(found.nul_records == 0);
}

}  // namespace
}  // namespace ferry
