// Fuzz target: the spool segment reader (agent/spool/segment_reader) on arbitrary bytes, as a segment left
// by a crash, a bad disk or a stray writer may hold. It must terminate within a bound set by the input's
// size, report only ranges inside the input, return entries in order from disjoint ranges that can hold
// them, and keep its statistics consistent. Whatever it returns, framed again by the writer, must read
// back as the same entries with no damage reported. libFuzzer calls it on one thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/spool/segment_reader.h"
#include "agent/spool/segment_writer.h"

namespace {

using ferry::spool::ReadEvent;
using ferry::spool::SegmentCorruption;
using ferry::spool::SegmentReader;

struct Outcome {
  std::vector<std::string> entries;
  std::uint64_t corruptions = 0;
};

Outcome ReadAll(std::string_view bytes) {
  Outcome out;
  SegmentReader reader(bytes, "fuzz");
  std::uint64_t last_end = 0;
  std::uint64_t skipped = 0;
  // Each call consumes input or drops a partial entry, which needed at least one fragment of input.
  const std::size_t bound = 2 * bytes.size() + 8;
  for (std::size_t calls = 0;; ++calls) {
    if (calls > bound) __builtin_trap();
    std::string entry;
    SegmentCorruption corruption;
    ReadEvent event = reader.Next(&entry, &corruption);
    if (event == ReadEvent::kEnd) break;
    if (event == ReadEvent::kCorruption) {
      if (corruption.bytes == 0 || corruption.offset + corruption.bytes > bytes.size()) __builtin_trap();
      if (corruption.segment != "fuzz" || corruption.reason.empty()) __builtin_trap();
      skipped += corruption.bytes;
      ++out.corruptions;
      continue;
    }
    const std::uint64_t begin = reader.entry_offset();
    const std::uint64_t end = reader.entry_end();
    if (begin < last_end || end > bytes.size() || end - begin < ferry::spool::kHeaderSize + entry.size()) {
      __builtin_trap();
    }
    last_end = end;
    out.entries.push_back(std::move(entry));
  }
  const auto& stats = reader.stats();
  if (stats.entries != out.entries.size() || stats.corruptions != out.corruptions ||
      stats.bytes_skipped != skipped) {
    __builtin_trap();
  }
  if (stats.zero_tail_bytes != 0 && stats.zero_tail_offset + stats.zero_tail_bytes != bytes.size())
    __builtin_trap();
  if (reader.Next(nullptr, nullptr) != ReadEvent::kEnd) __builtin_trap();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Outcome first = ReadAll(bytes);
  std::string framed;
  std::uint64_t offset = 0;
  for (const auto& entry : first.entries) offset = ferry::spool::FrameEntry(offset, entry, &framed);
  Outcome again = ReadAll(framed);
  if (again.entries != first.entries || again.corruptions != 0) __builtin_trap();
  return 0;
}
