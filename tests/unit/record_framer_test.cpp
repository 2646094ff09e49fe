// Tests of RecordFramer (agent/source/record_framer): single-line framing (the cases LineFramer was held
// to), truncation, header lines, multiline records, Flush, and the two properties the tailer relies on:
// framing does not depend on where reads end, and it matches a plain line-by-line specification.
#include "agent/source/record_framer.h"

#include <re2/re2.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace ferry {
namespace {

// A record with its bytes copied out of the buffer it was framed from.
struct Out {
  std::string data;
  std::uint64_t end_offset;
  bool operator==(const Out&) const = default;
};

void PutEscaped(std::ostream& os, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      os << ch;
    } else {
      os << "\\x" << kHex[c >> 4] << kHex[c & 15];
    }
  }
}

std::ostream& operator<<(std::ostream& os, const Out& r) {
  os << '{';
  PutEscaped(os, r.data);
  return os << ", " << r.end_offset << '}';
}

std::string Escaped(std::string_view bytes) {
  std::ostringstream os;
  PutEscaped(os, bytes);
  return os.str();
}

std::string Describe(const FramingCounters& c) {
  std::ostringstream os;
  os << "records=" << c.records << " empty=" << c.empty_lines << " split=" << c.split_records
     << " truncated=" << c.truncated_records << "/" << c.truncated_bytes << "B header=" << c.header_lines
     << " multiline=" << c.multiline_records;
  return os.str();
}

bool SameCounters(const FramingCounters& a, const FramingCounters& b) {
  return a.records == b.records && a.empty_lines == b.empty_lines && a.split_records == b.split_records &&
         a.truncated_records == b.truncated_records && a.truncated_bytes == b.truncated_bytes &&
         a.header_lines == b.header_lines && a.multiline_records == b.multiline_records;
}

struct Framed {
  std::vector<Out> records;
  FramingCounters counters;
  std::size_t consumed = 0;
  FramerState state;
};

FramerOptions Options(std::size_t max, Oversize oversize = Oversize::kSplit, std::string pattern = "",
                      std::size_t skip = 0) {
  FramerOptions o;
  o.max_record_bytes = max;
  o.oversize = oversize;
  o.multiline_start = std::move(pattern);
  o.skip_header_lines = skip;
  return o;
}

RecordFramer Make(const FramerOptions& options) {
  auto framer = RecordFramer::Create(options);
  if (!framer.ok()) FAIL(framer.error().message());
  return std::move(framer).value();
}

// Copies records out, checking that they are views into buf with increasing end offsets no further than
// the bytes consumed.
void Collect(const std::vector<Record>& records, std::string_view buf, std::uint64_t offset,
             std::size_t consumed, Framed& into) {
  for (const Record& r : records) {
    REQUIRE(r.data.data() >= buf.data());
    REQUIRE(r.data.data() + r.data.size() <= buf.data() + buf.size());
    REQUIRE(!r.data.empty());
    REQUIRE(r.end_offset <= offset + consumed);
    if (!into.records.empty()) REQUIRE(r.end_offset > into.records.back().end_offset);
    into.records.push_back({std::string(r.data), r.end_offset});
  }
}

// One call: Frame, or Flush when flush is set.
Framed FrameOnce(const RecordFramer& framer, std::string_view input, std::uint64_t offset = 0,
                 bool flush = false, bool from_start = true) {
  Framed f;
  f.state = framer.NewFileState(from_start);
  std::vector<Record> out;
  f.consumed = flush ? framer.Flush(input, offset, f.state, out, f.counters)
                     : framer.Frame(input, offset, f.state, out, f.counters);
  REQUIRE(f.consumed <= input.size());
  Collect(out, input, offset, f.consumed, f);
  return f;
}

// Single-line split mode, one Frame() call: what LineFramer did.
Framed Lines(std::size_t max, std::string_view input, std::uint64_t offset = 0) {
  return FrameOnce(Make(Options(max)), input, offset);
}

// Frames input as a tailer does: each read lands in a fresh buffer behind the unconsumed carry, which is
// passed again with the same state; optionally Flush() the carry at the end. The carry must stay within
// max_carry bytes.
Framed FrameChunked(const RecordFramer& framer, std::string_view input,
                    const std::vector<std::size_t>& chunks, std::uint64_t offset, bool from_start, bool flush,
                    std::size_t max_carry) {
  Framed f;
  f.state = framer.NewFileState(from_start);
  std::string carry;
  std::uint64_t carry_offset = offset;
  std::size_t at = 0;
  for (std::size_t size : chunks) {
    std::string buf = carry;
    buf.append(input.substr(at, size));
    at += size;
    std::vector<Record> out;
    std::size_t used = framer.Frame(buf, carry_offset, f.state, out, f.counters);
    REQUIRE(used <= buf.size());
    Collect(out, buf, carry_offset, used, f);
    carry.assign(buf, used);
    carry_offset += used;
    f.consumed += used;
    INFO("carry " << Escaped(carry));
    REQUIRE(carry.size() <= max_carry);
  }
  REQUIRE(at == input.size());
  if (flush) {
    std::string buf = carry;
    std::vector<Record> out;
    std::size_t used = framer.Flush(buf, carry_offset, f.state, out, f.counters);
    REQUIRE(used == buf.size());
    Collect(out, buf, carry_offset, used, f);
    f.consumed += used;
    CHECK(!framer.HasPendingRecord(f.state));
    CHECK(!f.state.dropping);
  }
  return f;
}

// The specification, written plainly over the whole input as Flush() sees it: lines, header lines,
// records grouped from lines, then empty, split or truncated.
Framed Reference(const FramerOptions& o, std::string_view in, std::uint64_t offset, bool from_start) {
  struct Line {
    std::size_t begin, content_end, end;
  };
  std::vector<Line> lines;
  for (std::size_t pos = 0; pos < in.size();) {
    std::size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) {
      lines.push_back({pos, in.size(), in.size()});  // ends with the data: every byte is content
      break;
    }
    lines.push_back({pos, nl > pos && in[nl - 1] == '\r' ? nl - 1 : nl, nl + 1});
    pos = nl + 1;
  }
  Framed f;
  f.consumed = in.size();
  std::size_t first = from_start ? std::min(o.skip_header_lines, lines.size()) : 0;
  f.counters.header_lines = first;

  std::unique_ptr<re2::RE2> start;
  if (!o.multiline_start.empty()) start = std::make_unique<re2::RE2>(o.multiline_start);
  std::vector<std::pair<std::size_t, std::size_t>> groups;  // first and last line of each record
  bool in_multiline = false;
  for (std::size_t i = first; i < lines.size(); ++i) {
    bool is_start = false;
    if (start) {
      std::size_t len = std::min(lines[i].content_end - lines[i].begin, o.max_record_bytes);
      is_start = re2::RE2::PartialMatch(re2::StringPiece(in.data() + lines[i].begin, len), *start);
    }
    if (is_start) {
      groups.emplace_back(i, i);
      in_multiline = true;
    } else if (in_multiline) {
      groups.back().second = i;
    } else {
      groups.emplace_back(i, i);
    }
  }

  const std::size_t max = o.max_record_bytes;
  auto emit = [&](std::size_t from, std::size_t to, std::size_t end) {
    f.records.push_back({std::string(in.substr(from, to - from)), offset + end});
    ++f.counters.records;
  };
  for (auto [a, b] : groups) {
    std::size_t begin = lines[a].begin, content_end = lines[b].content_end, end = lines[b].end;
    if (b > a) ++f.counters.multiline_records;
    if (content_end == begin) {
      ++f.counters.empty_lines;
    } else if (content_end - begin <= max) {
      emit(begin, content_end, end);
    } else if (o.oversize == Oversize::kSplit) {
      std::size_t p = begin;
      for (; content_end - p > max; p += max) {
        emit(p, p + max, p + max);
        ++f.counters.split_records;
      }
      emit(p, content_end, end);
    } else {
      emit(begin, begin + max, begin + max);
      ++f.counters.truncated_records;
      f.counters.truncated_bytes += content_end - begin - max;
    }
  }
  return f;
}

// ---- Single-line mode: every case LineFramer was held to, through one Frame() call.

TEST_CASE("LF ends a record", "[record_framer]") {
  Framed f = Lines(100, "one\ntwo\nthree\n");
  CHECK(f.records == std::vector<Out>{{"one", 4}, {"two", 8}, {"three", 14}});
  CHECK(f.consumed == 14);
  CHECK(f.counters.records == 3);
  CHECK(f.counters.empty_lines == 0);
  CHECK(f.counters.split_records == 0);
}

TEST_CASE("CRLF ends a record and the CR is dropped", "[record_framer]") {
  Framed f = Lines(100, "one\r\ntwo\r\n");
  CHECK(f.records == std::vector<Out>{{"one", 5}, {"two", 10}});
  CHECK(f.consumed == 10);
  CHECK(f.counters.records == 2);
}

TEST_CASE("A lone CR inside a line is kept", "[record_framer]") {
  Framed f = Lines(100, "a\rb\n\rx\r\nab\r\r\nend\r");
  CHECK(f.records == std::vector<Out>{{"a\rb", 4}, {"\rx", 8}, {"ab\r", 13}});
  CHECK(f.consumed == 13);  // "end\r" may still become "end\r\n"
}

TEST_CASE("Empty lines are counted, not emitted", "[record_framer]") {
  Framed f = Lines(100, "\n\r\n\nx\n\n");
  CHECK(f.records == std::vector<Out>{{"x", 6}});
  CHECK(f.consumed == 7);
  CHECK(f.counters.records == 1);
  CHECK(f.counters.empty_lines == 4);
}

TEST_CASE("An unfinished last line is not consumed", "[record_framer]") {
  Framed f = Lines(100, "one\ntw");
  CHECK(f.records == std::vector<Out>{{"one", 4}});
  CHECK(f.consumed == 4);

  Framed cr = Lines(100, "one\r\ntwo\r");
  CHECK(cr.records == std::vector<Out>{{"one", 5}});
  CHECK(cr.consumed == 5);

  Framed none = Lines(100, "no newline yet");
  CHECK(none.records.empty());
  CHECK(none.consumed == 0);
  CHECK(none.counters.records == 0);

  Framed empty = Lines(100, "");
  CHECK(empty.records.empty());
  CHECK(empty.consumed == 0);
}

TEST_CASE("End offsets include the offset argument", "[record_framer]") {
  Framed f = Lines(100, "ab\ncd\r\n\nef", 1000);
  CHECK(f.records == std::vector<Out>{{"ab", 1003}, {"cd", 1007}});
  CHECK(f.consumed == 8);

  Framed big = Lines(4, "abcdefghij\n", 0xFFFFFFFF00ULL);
  CHECK(big.records ==
        std::vector<Out>{{"abcd", 0xFFFFFFFF04ULL}, {"efgh", 0xFFFFFFFF08ULL}, {"ij", 0xFFFFFFFF0BULL}});
}

TEST_CASE("A line of exactly max bytes is one record", "[record_framer]") {
  Framed f = Lines(8, "12345678\nx\n");
  CHECK(f.records == std::vector<Out>{{"12345678", 9}, {"x", 11}});
  CHECK(f.counters.split_records == 0);
  CHECK(f.counters.records == 2);
}

TEST_CASE("A line of max+1 bytes is split in two", "[record_framer]") {
  Framed f = Lines(8, "123456789\n");
  CHECK(f.records == std::vector<Out>{{"12345678", 8}, {"9", 10}});
  CHECK(f.consumed == 10);
  CHECK(f.counters.records == 2);
  CHECK(f.counters.split_records == 1);

  Framed crlf = Lines(8, "123456789\r\n");
  CHECK(crlf.records == std::vector<Out>{{"12345678", 8}, {"9", 11}});
}

TEST_CASE("A line of 5*max+3 bytes is split into six pieces", "[record_framer]") {
  const std::size_t max = 7;
  std::string line;
  for (std::size_t i = 0; i < 5 * max + 3; ++i) line.push_back(static_cast<char>('a' + i % 26));
  Framed f = Lines(max, line + "\nnext\n", 500);
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

TEST_CASE("A long line without its newline yet is split as far as it safely can be", "[record_framer]") {
  Framed f = Lines(4, "abcdefghij");
  CHECK(f.records == std::vector<Out>{{"abcd", 4}, {"efgh", 8}});
  CHECK(f.consumed == 8);  // "ij" waits: it may end in "\r\n"

  // Up to max+1 bytes without a newline may still be a max-byte line and its "\r": nothing is cut.
  Framed wait = Lines(4, "abcd\r");
  CHECK(wait.records.empty());
  CHECK(wait.consumed == 0);
}

TEST_CASE("A max-byte line followed by CRLF is one record", "[record_framer]") {
  Framed f = Lines(4, "abcd\r\nef\n");
  CHECK(f.records == std::vector<Out>{{"abcd", 6}, {"ef", 9}});
  CHECK(f.counters.split_records == 0);

  // A max+1 byte line ending in a lone CR: the CR is content and becomes a piece of its own.
  Framed cr = Lines(4, "abcd\r\r\n");
  CHECK(cr.records == std::vector<Out>{{"abcd", 4}, {"\r", 7}});
  CHECK(cr.counters.split_records == 1);
}

TEST_CASE("Binary bytes pass through unchanged", "[record_framer]") {
  const std::string line1("\0\x01\xff\xfe", 4);
  const std::string line2("\xc3\x28 \xed\xa0\x80 \xf0\x28\x8c\x28\0\0", 13);  // invalid UTF-8, NULs
  const std::string line3("caf\xc3\xa9 \xe6\x97\xa5", 9);                     // valid UTF-8
  const std::string input = line1 + "\n" + line2 + "\r\n" + line3 + "\n";
  Framed f = Lines(100, input);
  CHECK(f.records == std::vector<Out>{{line1, 5}, {line2, 20}, {line3, 30}});
  CHECK(f.consumed == input.size());

  // A NUL is not a terminator, even when it sits where the "\r" would.
  Framed nul = Lines(3, std::string("abc\0\n", 5));
  CHECK(nul.records == std::vector<Out>{{"abc", 3}, {std::string(1, '\0'), 5}});

  // Nor in multiline mode, where the pattern sees the bytes as they are.
  Framed multi = FrameOnce(Make(Options(100, Oversize::kSplit, "^[A-Z]")),
                           std::string("A\0\xff\n\xc3\x28\nB\n", 9), 0, true);
  CHECK(multi.records == std::vector<Out>{{std::string("A\0\xff\n\xc3\x28", 6), 7}, {"B", 9}});
}

TEST_CASE("Framing matches the plain specification on random complete input", "[record_framer]") {
  std::mt19937 rng(12345);
  const char alphabet[] = {'a', 'b', 'c', '\r', '\n', '\0', '\xff'};
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::size_t max = 1 + rng() % 9;
    std::string input;
    std::size_t len = rng() % 120;
    for (std::size_t i = 0; i < len; ++i) input.push_back(alphabet[rng() % sizeof(alphabet)]);
    input.push_back('\n');
    std::uint64_t offset = rng() % 4 == 0 ? 0 : rng();

    INFO("iteration " << iteration << " max " << max << " input " << Escaped(input));
    Framed expected = Reference(Options(max), input, offset, true);
    Framed got = Lines(max, input, offset);
    REQUIRE(got.records == expected.records);
    REQUIRE(got.consumed == input.size());
    INFO(Describe(got.counters) << " vs " << Describe(expected.counters));
    REQUIRE(SameCounters(got.counters, expected.counters));
  }
}

TEST_CASE("Frame alone does not depend on where chunks end", "[record_framer]") {
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
    RecordFramer framer = Make(Options(max));
    Framed whole = FrameOnce(framer, input, offset);
    Framed chunked = FrameChunked(framer, input, chunks, offset, true, false, max + 1);
    REQUIRE(chunked.records == whole.records);
    REQUIRE(chunked.consumed == whole.consumed);
    REQUIRE(SameCounters(chunked.counters, whole.counters));
  }
}

// ---- Truncate mode.

TEST_CASE("Truncate keeps the first max bytes of a long line and drops the rest", "[record_framer]") {
  RecordFramer framer = Make(Options(4, Oversize::kTruncate));
  Framed f = FrameOnce(framer, "abcdefg\nxy\nabcd\r\nabcde\r\nabcd\r\r\n\n");
  CHECK(f.records == std::vector<Out>{{"abcd", 4}, {"xy", 11}, {"abcd", 17}, {"abcd", 21}, {"abcd", 28}});
  CHECK(f.consumed == 32);
  CHECK(f.counters.records == 5);
  CHECK(f.counters.truncated_records == 3);
  CHECK(f.counters.truncated_bytes == 3 + 1 + 1);  // "efg", "e", and the lone "\r"
  CHECK(f.counters.split_records == 0);
  CHECK(f.counters.empty_lines == 1);
  CHECK(!f.state.dropping);

  // Without its end yet the record is cut as soon as it is surely too long; the rest waits to be dropped.
  Framed open = FrameOnce(framer, "abcdefg");
  CHECK(open.records == std::vector<Out>{{"abcd", 4}});
  CHECK(open.consumed == 7);
  CHECK(open.state.dropping);
  CHECK(open.counters.truncated_bytes == 3);
}

TEST_CASE("A truncated tail spanning three calls is dropped to the end of its line", "[record_framer]") {
  RecordFramer framer = Make(Options(4, Oversize::kTruncate));
  FramerState state = framer.NewFileState(true);
  FramingCounters c;
  std::vector<Record> out;

  std::string first = "abcdefgh";
  std::size_t used = framer.Frame(first, 0, state, out, c);
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == "abcd");
  CHECK(out[0].end_offset == 4);
  CHECK(used == 8);
  CHECK(state.dropping);

  // The second read ends in "\r": it may be half of the terminator, so it stays in the carry.
  out.clear();
  std::string second = "ijklmno\r";
  used = framer.Frame(second, 8, state, out, c);
  CHECK(out.empty());
  CHECK(used == 7);
  CHECK(state.dropping);

  out.clear();
  std::string third = "\r\nnext\nlonger line\n";
  used = framer.Frame(third, 15, state, out, c);
  REQUIRE(out.size() == 2);
  CHECK(out[0].data == "next");
  CHECK(out[0].end_offset == 22);
  CHECK(out[1].data == "long");
  CHECK(out[1].end_offset == 26);
  CHECK(used == third.size());
  CHECK(!state.dropping);

  CHECK(c.records == 3);
  CHECK(c.truncated_records == 2);
  CHECK(c.truncated_bytes == 11 + 7);  // "efghijklmno" and "er line"
}

TEST_CASE("Flush ends the dropping of a truncated line", "[record_framer]") {
  RecordFramer framer = Make(Options(4, Oversize::kTruncate));
  FramerState state = framer.NewFileState(true);
  FramingCounters c;
  std::vector<Record> out;
  CHECK(framer.Frame("abcdefg\r", 0, state, out, c) == 7);
  CHECK(framer.Flush("\r", 7, state, out, c) == 1);  // the data ends here: the "\r" was content
  CHECK(!state.dropping);
  CHECK(c.truncated_bytes == 4);
  CHECK(framer.Frame("xyz\n", 8, state, out, c) == 4);
  REQUIRE(out.size() == 2);
  CHECK(out[1].data == "xyz");
  CHECK(out[1].end_offset == 12);
}

// ---- Header lines.

TEST_CASE("Header lines are skipped at the start of a file, across calls", "[record_framer]") {
  RecordFramer framer = Make(Options(100, Oversize::kSplit, "", 2));
  std::string input = "# header one\n# two\r\nbody\n# not a header\n";
  Framed whole = FrameOnce(framer, input);
  CHECK(whole.records == std::vector<Out>{{"body", 25}, {"# not a header", 40}});
  CHECK(whole.counters.header_lines == 2);
  CHECK(whole.state.header_lines_left == 0);

  // Partial header lines are consumed as they arrive and counted once their end is seen.
  Framed chunked = FrameChunked(framer, input, {5, 3, 7, 2, 6, 17}, 0, true, false, 100);
  CHECK(chunked.records == whole.records);
  CHECK(chunked.consumed == input.size());
  CHECK(chunked.counters.header_lines == 2);

  FramerState state = framer.NewFileState(true);
  FramingCounters c;
  std::vector<Record> out;
  CHECK(framer.Frame("# hea", 0, state, out, c) == 5);
  CHECK(state.header_lines_left == 2);
  CHECK(c.header_lines == 0);
  CHECK(framer.Frame("der one\n# t", 5, state, out, c) == 11);
  CHECK(state.header_lines_left == 1);
  CHECK(c.header_lines == 1);
  CHECK(framer.Frame("wo\nbody\n", 16, state, out, c) == 8);
  CHECK(state.header_lines_left == 0);
  CHECK(c.header_lines == 2);
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == "body");
  CHECK(out[0].end_offset == 24);
}

TEST_CASE("Header lines are not skipped in a file not read from offset 0", "[record_framer]") {
  RecordFramer framer = Make(Options(100, Oversize::kSplit, "", 2));
  CHECK(framer.NewFileState(false).header_lines_left == 0);
  CHECK(framer.NewFileState(true).header_lines_left == 2);
  Framed f = FrameOnce(framer, "one\ntwo\nthree\n", 5000, false, false);
  CHECK(f.records == std::vector<Out>{{"one", 5004}, {"two", 5008}, {"three", 5014}});
  CHECK(f.counters.header_lines == 0);
}

TEST_CASE("Flush ends an unfinished header line", "[record_framer]") {
  RecordFramer framer = Make(Options(100, Oversize::kSplit, "", 2));
  Framed f = FrameOnce(framer, "# one\n# tw", 0, true);
  CHECK(f.records.empty());
  CHECK(f.consumed == 10);
  CHECK(f.counters.header_lines == 2);
  CHECK(f.state.header_lines_left == 0);

  // A file shorter than its header: what is left to skip is skipped when more comes.
  Framed short_file = FrameOnce(Make(Options(100, Oversize::kSplit, "", 3)), "# one\n", 0, true);
  CHECK(short_file.state.header_lines_left == 2);
}

// ---- Multiline records.

const char kDate[] = R"(^\d{4}-\d{2}-\d{2})";

TEST_CASE("A Java stack trace is one record", "[record_framer]") {
  RecordFramer framer = Make(Options(1 << 20, Oversize::kSplit, kDate));
  const std::string trace =
      "2024-05-01 12:00:00 ERROR request failed\n"
      "java.lang.IllegalStateException: connection closed\n"
      "\tat com.example.Client.send(Client.java:42)\n"
      "\tat com.example.Main.main(Main.java:7)\n"
      "Caused by: java.io.IOException: reset\n"
      "\t... 2 more\n";
  const std::string info = "2024-05-01 12:00:01 INFO retrying\n";
  const std::string warn = "2024-05-01 12:00:02 WARN slow\n\tat com.example.Client.send(Client.java:40)\n";
  const std::string input = trace + info + warn;

  Framed f = FrameOnce(framer, input);
  CHECK(f.records == std::vector<Out>{{trace.substr(0, trace.size() - 1), trace.size()},
                                      {info.substr(0, info.size() - 1), trace.size() + info.size()}});
  CHECK(f.consumed == trace.size() + info.size());  // the last trace waits for the next start line
  CHECK(framer.HasPendingRecord(f.state));
  CHECK(f.counters.multiline_records == 2);  // counted when their second line is seen
  CHECK(f.counters.records == 2);

  std::vector<Record> out;
  std::string carry = input.substr(f.consumed);
  CHECK(framer.Flush(carry, f.consumed, f.state, out, f.counters) == carry.size());
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == warn.substr(0, warn.size() - 1));
  CHECK(out[0].end_offset == input.size());
  CHECK(!framer.HasPendingRecord(f.state));
  CHECK(f.counters.records == 3);
  CHECK(f.counters.multiline_records == 2);
}

TEST_CASE("A pending record is held until the next start line or Flush", "[record_framer]") {
  RecordFramer framer = Make(Options(1000, Oversize::kSplit, kDate));
  FramerState state = framer.NewFileState(false);
  FramingCounters c;
  std::vector<Record> out;

  std::string carry = "2024-01-01 first\n";
  std::size_t used = framer.Frame(carry, 100, state, out, c);
  CHECK(used == 0);
  CHECK(out.empty());
  CHECK(framer.HasPendingRecord(state));

  carry += "  continued\n  and unfini";
  used = framer.Frame(carry, 100, state, out, c);
  CHECK(used == 0);
  CHECK(out.empty());
  CHECK(c.multiline_records == 1);

  carry += "shed\n2024-01-02 second\n2024-01-03 thi";
  used = framer.Frame(carry, 100, state, out, c);
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == "2024-01-01 first\n  continued\n  and unfinished");
  CHECK(out[0].end_offset == 100 + 46);
  CHECK(used == 46);
  CHECK(framer.HasPendingRecord(state));

  // Flush: the pending record ends, and so does the unfinished line, which becomes a record of its own.
  carry.erase(0, used);
  out.clear();
  CHECK(framer.Flush(carry, 146, state, out, c) == carry.size());
  CHECK(out.size() == 2);
  CHECK(out[0].data == "2024-01-02 second");
  CHECK(out[0].end_offset == 146 + 18);
  CHECK(out[1].data == "2024-01-03 thi");
  CHECK(out[1].end_offset == 146 + carry.size());
  CHECK(!framer.HasPendingRecord(state));
  CHECK(c.records == 3);
  CHECK(c.multiline_records == 1);
}

TEST_CASE("Interior CRLF stays in a multiline record, the final terminator goes", "[record_framer]") {
  RecordFramer framer = Make(Options(1000, Oversize::kSplit, kDate));
  Framed f = FrameOnce(framer, "2024-01-01 a\r\n\tat b\r\n\r\n2024-01-02 c\r\n", 0, true);
  CHECK(f.records == std::vector<Out>{{"2024-01-01 a\r\n\tat b\r\n", 23}, {"2024-01-02 c", 37}});
  CHECK(f.counters.multiline_records == 1);
  CHECK(f.counters.empty_lines == 0);  // the empty line belongs to the first record
}

TEST_CASE("Lines before the first start line are records of their own", "[record_framer]") {
  RecordFramer framer = Make(Options(1000, Oversize::kSplit, kDate));
  Framed f = FrameOnce(framer, "preamble\n\n  stray\n2024-01-01 a\n  b\n");
  CHECK(f.records == std::vector<Out>{{"preamble", 9}, {"  stray", 18}});
  CHECK(f.consumed == 18);
  CHECK(f.counters.empty_lines == 1);
  CHECK(framer.HasPendingRecord(f.state));

  // After Flush no record is open, so lines up to the next start line stand alone again.
  std::vector<Record> out;
  CHECK(framer.Flush("2024-01-01 a\n  b\n", 18, f.state, out, f.counters) == 17);
  CHECK(framer.Frame("  late\n", 35, f.state, out, f.counters) == 7);
  REQUIRE(out.size() == 2);
  CHECK(out[0].data == "2024-01-01 a\n  b");
  CHECK(out[1].data == "  late");
  CHECK(out[1].end_offset == 42);
}

TEST_CASE("An oversize multiline record is split or truncated", "[record_framer]") {
  // The start line is matched on its first max bytes.
  const std::string input = "2024-01-01 a\n\tat b\n\tat c\n2024-01-02\n";
  SECTION("split") {
    RecordFramer framer = Make(Options(10, Oversize::kSplit, kDate));
    Framed f = FrameOnce(framer, input);
    CHECK(f.records == std::vector<Out>{{"2024-01-01", 10}, {" a\n\tat b\n\t", 20}, {"at c", 25}});
    CHECK(f.consumed == 25);
    CHECK(f.counters.split_records == 2);
    CHECK(f.counters.multiline_records == 1);
    Framed chunked = FrameChunked(framer, input, {3, 9, 1, 10, 13}, 0, true, true, 22);
    CHECK(chunked.records ==
          std::vector<Out>{{"2024-01-01", 10}, {" a\n\tat b\n\t", 20}, {"at c", 25}, {"2024-01-02", 36}});
  }
  SECTION("truncate") {
    RecordFramer framer = Make(Options(10, Oversize::kTruncate, kDate));
    Framed f = FrameOnce(framer, input.substr(0, 25));
    CHECK(f.records == std::vector<Out>{{"2024-01-01", 10}});
    CHECK(f.consumed == 25);
    CHECK(f.counters.truncated_records == 1);
    CHECK(f.counters.truncated_bytes == 14);  // " a\n\tat b\n\tat c"
    CHECK(f.counters.multiline_records == 1);
    CHECK(f.state.dropping);
    CHECK(framer.HasPendingRecord(f.state));
    std::vector<Record> out;
    CHECK(framer.Frame("2024-01-02\n", 25, f.state, out, f.counters) == 0);
    CHECK(!f.state.dropping);
    CHECK(framer.Flush("2024-01-02\n", 25, f.state, out, f.counters) == 11);
    REQUIRE(out.size() == 1);
    CHECK(out[0].data == "2024-01-02");
  }
}

TEST_CASE("A start pattern that matches every line frames like single-line mode", "[record_framer]") {
  const std::string input = "a\n\nlong line here\r\nx\r\n\r\nlast";
  for (Oversize oversize : {Oversize::kSplit, Oversize::kTruncate}) {
    Framed lines = FrameOnce(Make(Options(4, oversize)), input, 7, true);
    Framed every = FrameOnce(Make(Options(4, oversize, "^")), input, 7, true);
    CHECK(every.records == lines.records);
    CHECK(SameCounters(every.counters, lines.counters));
    CHECK(every.counters.multiline_records == 0);
  }

  std::mt19937 rng(777);
  const char alphabet[] = {'a', 'B', '\r', '\n', '\n', '\0'};
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::size_t max = 1 + rng() % 8;
    Oversize oversize = rng() % 2 == 0 ? Oversize::kSplit : Oversize::kTruncate;
    std::string in;
    for (std::size_t i = 0, len = rng() % 60; i < len; ++i) in.push_back(alphabet[rng() % sizeof(alphabet)]);
    INFO("iteration " << iteration << " input " << Escaped(in));
    Framed lines = FrameOnce(Make(Options(max, oversize)), in, 0, true);
    Framed every = FrameOnce(Make(Options(max, oversize, ".*")), in, 0, true);
    REQUIRE(every.records == lines.records);
    REQUIRE(SameCounters(every.counters, lines.counters));
  }
}

// ---- Flush.

TEST_CASE("Flush makes a record of an unfinished line", "[record_framer]") {
  RecordFramer framer = Make(Options(100));
  Framed f = FrameOnce(framer, "one\ntw", 10, true);
  CHECK(f.records == std::vector<Out>{{"one", 14}, {"tw", 16}});
  CHECK(f.consumed == 6);

  // Without a "\n" there is no terminator: a final "\r" is content.
  Framed cr = FrameOnce(framer, "end\r", 0, true);
  CHECK(cr.records == std::vector<Out>{{"end\r", 4}});

  // An unfinished line longer than max is split as a finished one would be.
  Framed split = FrameOnce(Make(Options(4)), "abcdef", 0, true);
  CHECK(split.records == std::vector<Out>{{"abcd", 4}, {"ef", 6}});
}

TEST_CASE("Flush of an empty carry emits nothing", "[record_framer]") {
  for (const char* pattern : {"", kDate}) {
    RecordFramer framer = Make(Options(100, Oversize::kSplit, pattern));
    Framed f = FrameOnce(framer, "", 0, true);
    CHECK(f.records.empty());
    CHECK(f.consumed == 0);
    CHECK(SameCounters(f.counters, FramingCounters{}));

    FramerState state = framer.NewFileState(true);
    FramingCounters c;
    std::vector<Record> out;
    CHECK(framer.Frame("x\n", 0, state, out, c) == 2);
    CHECK(framer.Flush("", 2, state, out, c) == 0);
    CHECK(out.size() == 1);
  }
}

TEST_CASE("Create rejects an invalid pattern or limit", "[record_framer]") {
  auto bad = RecordFramer::Create(Options(100, Oversize::kSplit, "("));
  REQUIRE(!bad.ok());
  CHECK(bad.error().code() == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message() == "invalid multiline_start pattern \"(\": missing ): (");

  auto zero = RecordFramer::Create(Options(0));
  REQUIRE(!zero.ok());
  CHECK(zero.error().message().find("max_record_bytes") != std::string::npos);

  auto good = RecordFramer::Create(Options(100, Oversize::kSplit, kDate));
  REQUIRE(good.ok());
  CHECK(good->multiline());
  CHECK(!RecordFramer::Create(Options(100))->multiline());
}

// ---- Properties over every mode.

TEST_CASE("Framing in random chunks matches framing at once, and the specification, in every mode",
          "[record_framer]") {
  std::mt19937 rng(20240501);
  const char* const patterns[] = {"", "^[A-Z]", "^", "[B\\r]$"};
  const char alphabet[] = {'A', 'B', 'a', 'b', 'a', '\r', '\n', '\n', '\0', '\xff'};
  int combinations = 0;
  for (Oversize oversize : {Oversize::kSplit, Oversize::kTruncate}) {
    for (const char* pattern : patterns) {
      for (std::size_t skip : {0, 1, 3}) {
        for (bool from_start : {true, false}) {
          ++combinations;
          for (int iteration = 0; iteration < 150; ++iteration) {
            const std::size_t max = 1 + rng() % 10;
            RecordFramer framer = Make(Options(max, oversize, pattern, skip));
            std::string input;
            const std::size_t len = rng() % 160;
            const bool long_lines = rng() % 3 == 0;
            for (std::size_t i = 0; i < len; ++i) {
              char c = alphabet[rng() % sizeof(alphabet)];
              if (long_lines && c == '\n' && rng() % 4 != 0) c = 'a';
              input.push_back(c);
            }
            const std::uint64_t offset = rng() % 3 == 0 ? 0 : rng();
            std::vector<std::size_t> chunks;
            for (std::size_t left = input.size(); left > 0;) {
              std::size_t size = std::min<std::size_t>(left, rng() % 4 == 0 ? 0 : 1 + rng() % (3 * max + 4));
              chunks.push_back(size);
              left -= size;
            }

            INFO("oversize " << static_cast<int>(oversize) << " pattern " << pattern << " skip " << skip
                             << " from_start " << from_start << " max " << max << " iteration " << iteration
                             << " input " << Escaped(input));
            const std::size_t max_carry = *pattern == '\0' ? max + 1 : 2 * max + 2;
            Framed whole = FrameOnce(framer, input, offset, true, from_start);
            Framed chunked = FrameChunked(framer, input, chunks, offset, from_start, true, max_carry);
            Framed spec = Reference(framer.options(), input, offset, from_start);
            REQUIRE(whole.consumed == input.size());
            REQUIRE(chunked.consumed == input.size());
            REQUIRE(whole.records == spec.records);
            INFO("whole " << Describe(whole.counters) << " chunked " << Describe(chunked.counters) << " spec "
                          << Describe(spec.counters));
            REQUIRE(SameCounters(whole.counters, spec.counters));
            REQUIRE(chunked.records == whole.records);
            REQUIRE(SameCounters(chunked.counters, whole.counters));
          }
        }
      }
    }
  }
  CHECK(combinations == 48);
}

}  // namespace
}  // namespace ferry
