// Tests of LineFramer (agent/source/line_framer): records, their end offsets, splitting of long lines,
// and that framing does not depend on where reads happen to end.
#include "agent/source/line_framer.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace ferry {
namespace {

// A record with its bytes copied out of the input buffer.
struct Out {
  std::string data;
  std::uint64_t end_offset;
  bool operator==(const Out&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Out& r) {
  os << '{';
  for (unsigned char c : r.data) {
    if (c >= 0x20 && c < 0x7f) {
      os << c;
    } else {
      os << "\\x"
         << "0123456789abcdef"[c >> 4] << "0123456789abcdef"[c & 15];
    }
  }
  return os << ", " << r.end_offset << '}';
}

struct Framed {
  std::vector<Out> records;
  FramingCounters counters;
  std::size_t consumed = 0;
};

Framed FrameAll(std::size_t max, std::string_view input, std::uint64_t offset = 0) {
  LineFramer framer(max);
  Framed f;
  std::vector<Record> out;
  f.consumed = framer.Frame(input, offset, out, f.counters);
  for (const Record& r : out) {
    // Records are views into the input, never copies.
    REQUIRE(r.data.data() >= input.data());
    REQUIRE(r.data.data() + r.data.size() <= input.data() + input.size());
    f.records.push_back({std::string(r.data), r.end_offset});
  }
  return f;
}

// Frames input as a tailer does: read in chunks, keep the unconsumed rest and put it in front of the next.
Framed FrameChunked(std::size_t max, std::string_view input, const std::vector<std::size_t>& chunk_sizes,
                    std::uint64_t offset) {
  LineFramer framer(max);
  Framed f;
  std::string pending;
  std::uint64_t pending_offset = offset;
  std::size_t at = 0;
  for (std::size_t size : chunk_sizes) {
    pending.append(input.substr(at, size));
    at += size;
    std::vector<Record> out;
    std::size_t used = framer.Frame(pending, pending_offset, out, f.counters);
    REQUIRE(used <= pending.size());
    for (const Record& r : out) f.records.push_back({std::string(r.data), r.end_offset});
    pending.erase(0, used);
    pending_offset += used;
    f.consumed += used;
  }
  REQUIRE(at == input.size());
  return f;
}

void CheckSameCounters(const FramingCounters& a, const FramingCounters& b) {
  CHECK(a.records == b.records);
  CHECK(a.empty_lines == b.empty_lines);
  CHECK(a.split_records == b.split_records);
}

TEST_CASE("LF ends a record", "[line_framer]") {
  Framed f = FrameAll(100, "one\ntwo\nthree\n");
  CHECK(f.records == std::vector<Out>{{"one", 4}, {"two", 8}, {"three", 14}});
  CHECK(f.consumed == 14);
  CHECK(f.counters.records == 3);
  CHECK(f.counters.empty_lines == 0);
  CHECK(f.counters.split_records == 0);
}

TEST_CASE("CRLF ends a record and the CR is dropped", "[line_framer]") {
  Framed f = FrameAll(100, "one\r\ntwo\r\n");
  CHECK(f.records == std::vector<Out>{{"one", 5}, {"two", 10}});
  CHECK(f.consumed == 10);
  CHECK(f.counters.records == 2);
}

TEST_CASE("A lone CR inside a line is kept", "[line_framer]") {
  Framed f = FrameAll(100, "a\rb\n\rx\r\nab\r\r\nend\r");
  CHECK(f.records == std::vector<Out>{{"a\rb", 4}, {"\rx", 8}, {"ab\r", 13}});
  CHECK(f.consumed == 13);  // "end\r" may still become "end\r\n"
}

TEST_CASE("Empty lines are counted, not emitted", "[line_framer]") {
  Framed f = FrameAll(100, "\n\r\n\nx\n\n");
  CHECK(f.records == std::vector<Out>{{"x", 6}});
  CHECK(f.consumed == 7);
  CHECK(f.counters.records == 1);
  CHECK(f.counters.empty_lines == 4);
}

TEST_CASE("An unfinished last line is not consumed", "[line_framer]") {
  Framed f = FrameAll(100, "one\ntw");
  CHECK(f.records == std::vector<Out>{{"one", 4}});
  CHECK(f.consumed == 4);

  Framed cr = FrameAll(100, "one\r\ntwo\r");
  CHECK(cr.records == std::vector<Out>{{"one", 5}});
  CHECK(cr.consumed == 5);

  Framed none = FrameAll(100, "no newline yet");
  CHECK(none.records.empty());
  CHECK(none.consumed == 0);
  CHECK(none.counters.records == 0);

  Framed empty = FrameAll(100, "");
  CHECK(empty.records.empty());
  CHECK(empty.consumed == 0);
}

TEST_CASE("End offsets include the offset argument", "[line_framer]") {
  Framed f = FrameAll(100, "ab\ncd\r\n\nef", 1000);
  CHECK(f.records == std::vector<Out>{{"ab", 1003}, {"cd", 1007}});
  CHECK(f.consumed == 8);

  Framed big = FrameAll(4, "abcdefghij\n", 0xFFFFFFFF00ULL);
  CHECK(big.records ==
        std::vector<Out>{{"abcd", 0xFFFFFFFF04ULL}, {"efgh", 0xFFFFFFFF08ULL}, {"ij", 0xFFFFFFFF0BULL}});
}

TEST_CASE("A line of exactly max bytes is one record", "[line_framer]") {
  Framed f = FrameAll(8, "12345678\nx\n");
  CHECK(f.records == std::vector<Out>{{"12345678", 9}, {"x", 11}});
  CHECK(f.counters.split_records == 0);
  CHECK(f.counters.records == 2);
}

TEST_CASE("A line of max+1 bytes is split in two", "[line_framer]") {
  Framed f = FrameAll(8, "123456789\n");
  CHECK(f.records == std::vector<Out>{{"12345678", 8}, {"9", 10}});
  CHECK(f.consumed == 10);
  CHECK(f.counters.records == 2);
  CHECK(f.counters.split_records == 1);

  Framed crlf = FrameAll(8, "123456789\r\n");
  CHECK(crlf.records == std::vector<Out>{{"12345678", 8}, {"9", 11}});
}

TEST_CASE("A line of 5*max+3 bytes is split into six pieces", "[line_framer]") {
  const std::size_t max = 7;
  std::string line;
  for (std::size_t i = 0; i < 5 * max + 3; ++i) line.push_back(static_cast<char>('a' + i % 26));
  Framed f = FrameAll(max, line + "\nnext\n", 500);
  REQUIRE(f.records.size() == 7);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(f.records[i] == Out{line.substr(i * max, max), 500 + (i + 1) * max});
  }
  CHECK(f.records[5] == Out{line.substr(5 * max), 500 + 5 * max + 3 + 1});
  CHECK(f.records[6] == Out{"next", 500 + 5 * max + 3 + 1 + 5});
  CHECK(f.consumed == 5 * max + 3 + 1 + 5);
  CHECK(f.counters.records == 7);
  CHECK(f.counters.split_records == 5);
}

TEST_CASE("A long line without its newline yet is split as far as it safely can be", "[line_framer]") {
  Framed f = FrameAll(4, "abcdefghij");
  CHECK(f.records == std::vector<Out>{{"abcd", 4}, {"efgh", 8}});
  CHECK(f.consumed == 8);  // "ij" waits: it may end in "\r\n"

  // Up to max+1 bytes without a newline may still be a max-byte line and its "\r": nothing is cut.
  Framed wait = FrameAll(4, "abcd\r");
  CHECK(wait.records.empty());
  CHECK(wait.consumed == 0);
}

TEST_CASE("A max-byte line followed by CRLF is one record", "[line_framer]") {
  Framed f = FrameAll(4, "abcd\r\nef\n");
  CHECK(f.records == std::vector<Out>{{"abcd", 6}, {"ef", 9}});
  CHECK(f.counters.split_records == 0);

  // A max+1 byte line ending in a lone CR: the CR is content and becomes a piece of its own.
  Framed cr = FrameAll(4, "abcd\r\r\n");
  CHECK(cr.records == std::vector<Out>{{"abcd", 4}, {"\r", 7}});
  CHECK(cr.counters.split_records == 1);
}

TEST_CASE("Binary bytes pass through unchanged", "[line_framer]") {
  const std::string line1("\0\x01\xff\xfe", 4);
  const std::string line2("\xc3\x28 \xed\xa0\x80 \xf0\x28\x8c\x28\0\0", 13);  // invalid UTF-8, NULs
  const std::string line3("caf\xc3\xa9 \xe6\x97\xa5", 9);                     // valid UTF-8
  const std::string input = line1 + "\n" + line2 + "\r\n" + line3 + "\n";
  Framed f = FrameAll(100, input);
  CHECK(f.records == std::vector<Out>{{line1, 5}, {line2, 20}, {line3, 30}});
  CHECK(f.consumed == input.size());

  // A NUL is not a terminator, even when it sits where the "\r" would.
  Framed nul = FrameAll(3, std::string("abc\0\n", 5));
  CHECK(nul.records == std::vector<Out>{{"abc", 3}, {std::string(1, '\0'), 5}});
}

TEST_CASE("Framing matches the plain specification on random complete input", "[line_framer]") {
  std::mt19937 rng(12345);
  const char alphabet[] = {'a', 'b', 'c', '\r', '\n', '\0', '\xff'};
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::size_t max = 1 + rng() % 9;
    std::string input;
    std::size_t len = rng() % 120;
    for (std::size_t i = 0; i < len; ++i) input.push_back(alphabet[rng() % sizeof(alphabet)]);
    input.push_back('\n');
    std::uint64_t offset = rng() % 4 == 0 ? 0 : rng();

    Framed expected;
    {
      // Reference framing, offsets computed line by line.
      std::uint64_t line_start = offset;
      std::string_view rest = input;
      while (!rest.empty()) {
        std::size_t nl = rest.find('\n');
        std::string_view content = rest.substr(0, nl);
        if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
        std::uint64_t line_end = line_start + nl + 1;
        if (content.empty()) {
          ++expected.counters.empty_lines;
        } else {
          std::uint64_t at = line_start;
          while (content.size() > max) {
            at += max;
            expected.records.push_back({std::string(content.substr(0, max)), at});
            ++expected.counters.records;
            ++expected.counters.split_records;
            content.remove_prefix(max);
          }
          expected.records.push_back({std::string(content), line_end});
          ++expected.counters.records;
        }
        rest.remove_prefix(nl + 1);
        line_start = line_end;
      }
    }

    INFO("iteration " << iteration << " max " << max);
    Framed got = FrameAll(max, input, offset);
    REQUIRE(got.records == expected.records);
    REQUIRE(got.consumed == input.size());
    CheckSameCounters(got.counters, expected.counters);
  }
}

TEST_CASE("Framing does not depend on where chunks end", "[line_framer]") {
  std::mt19937 rng(4242);
  const char alphabet[] = {'x', 'y', '\r', '\n', '\0', '\x80'};
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::size_t max = 1 + rng() % 8;
    std::string input;
    std::size_t len = rng() % 150;
    // Some inputs have long runs without newlines, so splitting happens across chunks.
    bool long_lines = rng() % 3 == 0;
    for (std::size_t i = 0; i < len; ++i) {
      char c = alphabet[rng() % sizeof(alphabet)];
      if (long_lines && c == '\n' && rng() % 4 != 0) c = 'z';
      input.push_back(c);
    }
    std::uint64_t offset = rng() % 100000;

    std::vector<std::size_t> chunks;
    for (std::size_t left = input.size(); left > 0;) {
      std::size_t size = std::min<std::size_t>(left, rng() % 3 == 0 ? 0 : 1 + rng() % (2 * max + 4));
      chunks.push_back(size);
      left -= size;
    }

    INFO("iteration " << iteration << " max " << max << " chunks " << chunks.size());
    Framed whole = FrameAll(max, input, offset);
    Framed chunked = FrameChunked(max, input, chunks, offset);
    REQUIRE(chunked.records == whole.records);
    REQUIRE(chunked.consumed == whole.consumed);
    CheckSameCounters(chunked.counters, whole.counters);
  }
}

}  // namespace
}  // namespace ferry
