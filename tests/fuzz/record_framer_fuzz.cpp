// Fuzz target: framing arbitrary file bytes into records with RecordFramer, in every mode. The first bytes
// choose the options and where reads end; the rest is framed in three reads with the carry put in front of
// each, as the tailer does, then flushed. Checks the framer's promises: records are non-empty views inside
// the buffer they came from, never longer than the limit, with increasing end offsets that do not pass the
// bytes consumed; the carry stays bounded; and the result equals framing everything with one Flush().
// Single-threaded, like libFuzzer's driver.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "agent/source/record_framer.h"

namespace {

struct Check {
  std::size_t max;
  std::uint64_t last_end;
  bool any = false;
};

// Checks the records of one call framed from buf (at file offset `offset`, `consumed` bytes used).
void CheckRecords(const std::vector<ferry::Record>& records, std::string_view buf, std::uint64_t offset,
                  std::size_t consumed, Check& check) {
  if (consumed > buf.size()) std::abort();
  for (const ferry::Record& r : records) {
    if (r.data.empty() || r.data.size() > check.max) std::abort();
    if (r.data.data() < buf.data() || r.data.data() + r.data.size() > buf.data() + buf.size()) std::abort();
    if (check.any && r.end_offset <= check.last_end) std::abort();
    if (r.end_offset > offset + consumed) std::abort();
    check.last_end = r.end_offset;
    check.any = true;
  }
}

bool SameCounters(const ferry::FramingCounters& a, const ferry::FramingCounters& b) {
  return a.records == b.records && a.empty_lines == b.empty_lines && a.split_records == b.split_records &&
         a.truncated_records == b.truncated_records && a.truncated_bytes == b.truncated_bytes &&
         a.header_lines == b.header_lines && a.multiline_records == b.multiline_records;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  ferry::FramerOptions options;
  options.max_record_bytes = 1 + data[0] % 64;
  options.oversize = (data[1] & 1) != 0 ? ferry::Oversize::kTruncate : ferry::Oversize::kSplit;
  static const char* const kPatterns[] = {"", "^[A-Z]", "[0-9]$"};
  options.multiline_start = kPatterns[(data[1] >> 1) % 3];
  options.skip_header_lines = (data[1] >> 3) % 4;
  const bool from_start = (data[1] & 0x20) != 0;
  auto created = ferry::RecordFramer::Create(options);
  if (!created.ok()) std::abort();
  const ferry::RecordFramer& framer = *created;
  const std::size_t max = options.max_record_bytes;
  const std::size_t max_carry = framer.multiline() ? 2 * max + 2 : max + 1;

  const std::string_view input(reinterpret_cast<const char*>(data) + 4, size - 4);
  const std::size_t cut1 = input.size() * data[2] / 256;
  const std::size_t cut2 = cut1 + (input.size() - cut1) * data[3] / 256;
  const std::size_t bounds[] = {0, cut1, cut2, input.size()};
  constexpr std::uint64_t kStart = 1000;

  // Three reads with the carry in front, then Flush. Every buffer is a fresh allocation of its exact size,
  // so a view past its end is caught by AddressSanitizer.
  ferry::FramerState state = framer.NewFileState(from_start);
  ferry::FramingCounters counters;
  std::vector<ferry::Record> records;
  std::vector<char> chunked_bytes;  // the records' bytes, in order
  std::vector<std::uint64_t> chunked_ends;
  std::vector<std::size_t> chunked_sizes;
  Check check{max, 0};
  std::vector<char> carry;
  std::uint64_t carry_offset = kStart;
  for (int read = 0; read < 4; ++read) {
    const bool flush = read == 3;
    const std::size_t fresh = flush ? 0 : bounds[read + 1] - bounds[read];
    const std::size_t len = carry.size() + fresh;
    std::unique_ptr<char[]> buf(new char[len == 0 ? 1 : len]);
    if (!carry.empty()) std::memcpy(buf.get(), carry.data(), carry.size());
    if (fresh > 0) std::memcpy(buf.get() + carry.size(), input.data() + bounds[read], fresh);
    std::string_view bytes(buf.get(), len);
    records.clear();
    std::size_t used = flush ? framer.Flush(bytes, carry_offset, state, records, counters)
                             : framer.Frame(bytes, carry_offset, state, records, counters);
    CheckRecords(records, bytes, carry_offset, used, check);
    if (flush && used != len) std::abort();
    for (const ferry::Record& r : records) {
      chunked_bytes.insert(chunked_bytes.end(), r.data.begin(), r.data.end());
      chunked_ends.push_back(r.end_offset);
      chunked_sizes.push_back(r.data.size());
    }
    carry.assign(bytes.begin() + static_cast<std::ptrdiff_t>(used), bytes.end());
    carry_offset += used;
    if (carry.size() > max_carry) std::abort();
  }
  if (carry_offset != kStart + input.size() || framer.HasPendingRecord(state) || state.dropping) std::abort();

  // The same bytes framed at once must give the same records and counters.
  ferry::FramerState whole_state = framer.NewFileState(from_start);
  ferry::FramingCounters whole_counters;
  std::vector<ferry::Record> whole;
  Check whole_check{max, 0};
  std::size_t used = framer.Flush(input, kStart, whole_state, whole, whole_counters);
  CheckRecords(whole, input, kStart, used, whole_check);
  if (used != input.size() || whole.size() != chunked_ends.size()) std::abort();
  if (!SameCounters(counters, whole_counters)) std::abort();
  std::size_t at = 0;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (whole[i].end_offset != chunked_ends[i] || whole[i].data.size() != chunked_sizes[i]) std::abort();
    if (whole[i].data.size() > chunked_bytes.size() - at ||
        std::memcmp(whole[i].data.data(), chunked_bytes.data() + at, whole[i].data.size()) != 0) {
      std::abort();
    }
    at += whole[i].data.size();
  }
  if (at != chunked_bytes.size()) std::abort();
  return 0;
}
