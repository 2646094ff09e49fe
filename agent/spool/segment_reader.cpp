// SegmentReader: parses one fragment at a time at the current offset and runs the FULL / FIRST MIDDLE* LAST
// sequence over the intact ones.
//
// Resynchronising: a block start is certain to begin a fragment, so after damage the reader goes on there.
// It goes on earlier, right past the damage, only when the offset the damaged header's length points to
// (or the first byte after a zero-filled hole) starts a run of intact fragments that ends exactly at the
// block's end: one flipped bit then costs one entry, not the rest of its block. It never scans for a
// header at arbitrary offsets, which could take bytes of a logged line, shaped by an outsider to look like
// a fragment, for an entry.
#include "agent/spool/segment_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "agent/core/whole_file.h"
#include "agent/spool/crc32c.h"
#include "agent/spool/segment_writer.h"

namespace ferry::spool {
namespace {

// What lies at one offset of a segment.
struct Parsed {
  enum class Kind {
    kFragment,  // an intact fragment: type, payload
    kTrailer,   // a block tail too short for a header
    kZeroTail,  // zero bytes from here to the end
    kBad,       // damage: reason; reading resumes at next
    kEnd,
  };
  Kind kind = Kind::kEnd;
  FragmentType type = FragmentType::kZero;
  std::string_view payload;
  std::uint64_t next = 0;  // where reading goes on
  // kBad: an earlier offset to go on at, if intact fragments follow it to the block's end (0: none)
  std::uint64_t candidate = 0;
  std::string reason;
};

std::uint64_t NextBlock(std::uint64_t at) {
  return (at / kBlockSize + 1) * kBlockSize;
}

Parsed Bad(std::uint64_t next, std::uint64_t size, std::string reason, std::uint64_t candidate = 0) {
  Parsed p;
  p.kind = Parsed::Kind::kBad;
  p.next = std::min(next, size);
  p.candidate = candidate < p.next ? candidate : 0;
  p.reason = std::move(reason);
  return p;
}

Parsed Parse(std::string_view data, std::uint64_t at) {
  const std::uint64_t size = data.size();
  Parsed p;
  if (at >= size) return p;
  const std::uint64_t block_left = kBlockSize - at % kBlockSize;
  const std::uint64_t remaining = size - at;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data()) + at;
  if (block_left < kHeaderSize) {
    p.kind = Parsed::Kind::kTrailer;
    p.next = at + std::min(block_left, remaining);
    return p;
  }
  // The first non-zero byte from here, for zero-filled space.
  auto first_non_zero = [&] {
    const auto* end = reinterpret_cast<const unsigned char*>(data.data()) + size;
    return static_cast<std::uint64_t>(std::find_if(bytes, end, [](unsigned char c) { return c != 0; }) -
                                      reinterpret_cast<const unsigned char*>(data.data()));
  };
  if (remaining < kHeaderSize) {
    if (first_non_zero() == size) {
      p.kind = Parsed::Kind::kZeroTail;
      return p;
    }
    return Bad(size, size, fmt::format("a truncated fragment header ({} bytes) ends the segment", remaining));
  }
  // The header: masked crc (u32le), length (u16le), type.
  const std::uint32_t masked =
      static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
      static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
  const std::uint64_t length = bytes[4] | static_cast<std::uint64_t>(bytes[5]) << 8;
  const unsigned char type = bytes[6];
  if (masked == 0 && length == 0 && type == 0) {
    std::uint64_t non_zero = first_non_zero();
    if (non_zero == size) {
      p.kind = Parsed::Kind::kZeroTail;
      return p;
    }
    // A fragment may begin at non_zero; a block start is certain to begin one.
    std::uint64_t resume = non_zero % kBlockSize == 0 ? non_zero : NextBlock(non_zero);
    return Bad(resume, size, fmt::format("zero-filled hole up to offset {}", non_zero), non_zero);
  }
  // The fragment's end if its length is right; the damage may be anywhere else in it.
  const std::uint64_t end_if_length_holds =
      kHeaderSize + length <= block_left ? at + kHeaderSize + length : 0;
  if (type == 0 || type > static_cast<unsigned char>(FragmentType::kLast)) {
    return Bad(NextBlock(at), size, fmt::format("unknown fragment type {}", type), end_if_length_holds);
  }
  if (kHeaderSize + length > block_left) {
    return Bad(NextBlock(at), size,
               fmt::format("fragment length {} runs past the end of its block ({} bytes left)", length,
                           block_left - kHeaderSize));
  }
  if (kHeaderSize + length > remaining) {
    return Bad(size, size,
               fmt::format("a truncated fragment ends the segment ({} of {} payload bytes)",
                           remaining - kHeaderSize, length));
  }
  const std::string_view type_and_payload = data.substr(at + kHeaderSize - 1, 1 + length);
  if (crc32c::Unmask(masked) != crc32c::Value(type_and_payload)) {
    return Bad(NextBlock(at), size, "checksum mismatch", end_if_length_holds);
  }
  p.kind = Parsed::Kind::kFragment;
  p.type = static_cast<FragmentType>(type);
  p.payload = type_and_payload.substr(1);
  p.next = at + kHeaderSize + length;
  return p;
}

// Whether intact fragments run from `at` to the end of its block (or of the segment), so reading can go on
// at `at` after damage before it. A chance run of even one fragment needs a 32-bit checksum to match.
bool IntactToBlockEnd(std::string_view data, std::uint64_t at) {
  const std::uint64_t block_end = NextBlock(at - 1);  // at > 0: it follows damage
  while (at < block_end) {
    Parsed p = Parse(data, at);
    switch (p.kind) {
      case Parsed::Kind::kFragment:
        at = p.next;
        continue;
      case Parsed::Kind::kTrailer:
      case Parsed::Kind::kZeroTail:
      case Parsed::Kind::kEnd:
        return true;
      case Parsed::Kind::kBad:
        return false;
    }
  }
  return true;
}

}  // namespace

ReadEvent SegmentReader::Report(std::uint64_t from, std::uint64_t to, std::string reason,
                                SegmentCorruption* out) {
  ++stats_.corruptions;
  stats_.bytes_skipped += to - from;
  if (out != nullptr) {
    out->segment = name_;
    out->offset = from;
    out->bytes = to - from;
    out->reason = std::move(reason);
  }
  return ReadEvent::kCorruption;
}

ReadEvent SegmentReader::Next(std::string* entry, SegmentCorruption* corruption) {
  for (;;) {
    Parsed f = Parse(data_, pos_);
    switch (f.kind) {
      case Parsed::Kind::kTrailer:
        pos_ = f.next;
        continue;
      case Parsed::Kind::kZeroTail: {
        stats_.zero_tail_offset = pos_;
        stats_.zero_tail_bytes = data_.size() - pos_;
        std::uint64_t at = std::exchange(pos_, data_.size());
        if (!pending_) continue;
        pending_ = false;
        return Report(pending_start_, at,
                      fmt::format("zero-filled tail at offset {} inside an entry (a torn write)", at),
                      corruption);
      }
      case Parsed::Kind::kEnd:
        if (!pending_) return ReadEvent::kEnd;
        pending_ = false;
        return Report(pending_start_, pos_, "the segment ends inside an entry (a torn write)", corruption);
      case Parsed::Kind::kBad: {
        if (f.candidate != 0 && IntactToBlockEnd(data_, f.candidate)) f.next = f.candidate;
        std::uint64_t from = pos_;
        std::string reason = fmt::format("{} at offset {}", f.reason, pos_);
        if (pending_) {
          from = pending_start_;
          reason += ", losing the entry that began before it";
          pending_ = false;
        }
        pos_ = f.next;
        return Report(from, f.next, std::move(reason), corruption);
      }
      case Parsed::Kind::kFragment:
        break;
    }

    switch (f.type) {
      case FragmentType::kFull:
      case FragmentType::kFirst:
        if (pending_) {
          // Report the unfinished entry; this fragment is read again on the next call.
          pending_ = false;
          return Report(pending_start_, pos_,
                        fmt::format("an entry has no LAST fragment (a new entry begins at offset {})", pos_),
                        corruption);
        }
        if (f.type == FragmentType::kFull) {
          if (entry != nullptr) entry->assign(f.payload);
          entry_offset_ = pos_;
          entry_end_ = pos_ = f.next;
          ++stats_.entries;
          return ReadEvent::kEntry;
        }
        pending_ = true;
        pending_start_ = pos_;
        scratch_.assign(f.payload);
        pos_ = f.next;
        continue;
      case FragmentType::kMiddle:
      case FragmentType::kLast: {
        if (pending_) {
          scratch_.append(f.payload);
          if (f.type == FragmentType::kMiddle) {
            pos_ = f.next;
            continue;
          }
          pending_ = false;
          if (entry != nullptr) entry->swap(scratch_);
          entry_offset_ = pending_start_;
          entry_end_ = pos_ = f.next;
          ++stats_.entries;
          return ReadEvent::kEntry;
        }
        // The rest of an entry whose start was lost: skip all of its intact fragments in one report.
        std::uint64_t from = pos_;
        std::uint64_t end = f.next;
        FragmentType last = f.type;
        while (last == FragmentType::kMiddle) {
          Parsed g = Parse(data_, end);
          while (g.kind == Parsed::Kind::kTrailer) g = Parse(data_, g.next);
          if (g.kind != Parsed::Kind::kFragment ||
              (g.type != FragmentType::kMiddle && g.type != FragmentType::kLast)) {
            break;
          }
          end = g.next;
          last = g.type;
        }
        pos_ = end;
        return Report(from, end, fmt::format("fragments of an entry whose start is lost, at offset {}", from),
                      corruption);
      }
      case FragmentType::kZero:
        break;  // Parse never returns it
    }
    pos_ = f.next;
  }
}

Result<std::string> LoadSegment(const std::string& path, std::string buffer) {
  auto file = ReadWholeFile(path, kMaxSegmentBytes, "spool segment", std::move(buffer));
  if (!file) return file.error();
  if (file->too_large) {
    return Error(
        ErrorCode::kProtocol,
        fmt::format("spool segment {}: more than the {} bytes a segment may hold", path, kMaxSegmentBytes));
  }
  return std::move(file->bytes);
}

}  // namespace ferry::spool
