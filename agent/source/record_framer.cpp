// RecordFramer: one pass over the bytes of a call, line by line. Each line is first given a fate (header,
// part of the open record, or dropped tail of a truncated record), then its rest is scanned with memchr
// over a window of at most max+2 bytes past the start of the record piece being built, so a huge line
// costs one pass. In multiline mode each line is matched once, on at most its first max bytes; what is
// known about the carry is kept in FramerState so the next call resumes where this one stopped.
// Stateless apart from the caller's FramerState: safe to use from any thread, one file per thread.
#include "agent/source/record_framer.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace ferry {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
// Keeps max + 2 and positions plus max far from overflow.
constexpr std::size_t kMaxRecordLimit = std::numeric_limits<std::size_t>::max() / 4;

}  // namespace

// One Frame() or Flush() call. Positions are indexes into bytes. Invariants: everything before done_ is
// consumed; an open record that is not being dropped is held in [done_, cur_) and its content before
// the current line is all within max bytes of done_ (longer content has been cut off already).
class RecordFramer::Pass {
 public:
  Pass(const RecordFramer& framer, std::string_view bytes, std::uint64_t offset, FramerState& state,
       std::vector<Record>& out, FramingCounters& counters, bool at_end)
      : max_(framer.options_.max_record_bytes),
        truncate_(framer.options_.oversize == Oversize::kTruncate),
        start_(framer.start_.get()),
        b_(bytes.data()),
        n_(bytes.size()),
        offset_(offset),
        st_(state),
        out_(out),
        c_(counters),
        at_end_(at_end) {}

  std::size_t Run() {
    cur_ = std::min(st_.scanned, n_);
    st_.scanned = 0;
    for (;;) {
      bool more;
      if (st_.header_lines_left > 0) {
        more = HeaderLine();
      } else if (!st_.in_line) {
        more = LineStart();
      } else if (st_.dropping) {
        more = DropRest();
      } else {
        more = RecordRest();
      }
      if (!more) break;
    }
    if (!at_end_) {
      st_.scanned = cur_ - done_;
      return done_;
    }
    // The data ends here: the last line ended with it, and so does any open record.
    if (st_.header_lines_left > 0 && st_.in_line) {
      --st_.header_lines_left;
      ++c_.header_lines;
    }
    if (st_.open == FramerState::Open::kMulti) CloseMulti(n_);
    FramerState fresh;
    fresh.header_lines_left = st_.header_lines_left;
    st_ = fresh;
    return n_;
  }

 private:
  void Emit(std::size_t from, std::size_t to, std::size_t end) {
    out_.push_back(Record{std::string_view(b_ + from, to - from), offset_ + end});
    ++c_.records;
  }

  // Where the content of the line ending in the "\n" at nl ends, for a line whose bytes are held from
  // `from`: a "\r" right before the "\n" belongs to the terminator.
  std::size_t ContentEnd(std::size_t nl, std::size_t from) const {
    return nl > from && b_[nl - 1] == '\r' ? nl - 1 : nl;
  }

  // The open record's content is known to reach at least `known`: cuts off what cannot fit. Split: pieces
  // of max bytes. Truncate: the first max bytes are the record, the bytes up to `known` are dropped and
  // dropping goes on from there. Returns true when dropping started.
  bool Cut(std::size_t known) {
    if (!truncate_) {
      while (known > done_ + max_) {
        Emit(done_, done_ + max_, done_ + max_);
        ++c_.split_records;
        done_ += max_;
      }
      return false;
    }
    if (known <= done_ + max_) return false;
    Emit(done_, done_ + max_, done_ + max_);
    ++c_.truncated_records;
    c_.truncated_bytes += known - (done_ + max_);
    st_.dropping = true;
    st_.drop_term = 0;
    done_ = cur_ = known;
    return true;
  }

  // Ends the open multiline record just before `end` (the next start line, or the end of the data).
  void CloseMulti(std::size_t end) {
    if (st_.dropping) {
      st_.dropping = false;  // the dropped tail ends here; its final terminator is not record content
      st_.drop_term = 0;
    } else if (end > done_) {
      std::size_t content_end = end;
      if (b_[end - 1] == '\n') content_end = ContentEnd(end - 1, done_);
      if (content_end > done_) {
        Emit(done_, content_end, end);
      } else {
        ++c_.empty_lines;  // a lone empty start line
      }
    }
    done_ = end;
    st_.open = FramerState::Open::kNone;
    st_.multi = false;
  }

  // A header line, or the rest of one: skipped whole.
  bool HeaderLine() {
    if (cur_ == n_) return false;
    const void* nl = std::memchr(b_ + cur_, '\n', n_ - cur_);
    if (nl == nullptr) {
      done_ = cur_ = n_;  // counted once its end is seen
      st_.in_line = true;
      return false;
    }
    done_ = cur_ = static_cast<const char*>(nl) - b_ + 1;
    st_.in_line = false;
    --st_.header_lines_left;
    ++c_.header_lines;
    return true;
  }

  // Single-line mode: complete lines that fit go straight out, as long as there are any. Stops at the
  // first line that needs more (an unfinished or long line), leaving nl_hint_ set when its end is known.
  void FastLines() {
    while (cur_ < n_) {
      const void* p = std::memchr(b_ + cur_, '\n', std::min(n_ - cur_, max_ + 2));
      if (p == nullptr) return;
      const std::size_t nl = static_cast<const char*>(p) - b_;
      const std::size_t content_end = ContentEnd(nl, cur_);
      if (content_end - cur_ > max_) {
        nl_hint_ = nl;
        return;
      }
      if (content_end > cur_) {
        Emit(cur_, content_end, nl + 1);
      } else {
        ++c_.empty_lines;
      }
      done_ = cur_ = nl + 1;
    }
  }

  // A new line starts at cur_: decides what it is.
  bool LineStart() {
    nl_hint_ = kNone;
    if (start_ == nullptr) FastLines();
    if (cur_ == n_) return false;
    const std::size_t start = cur_;
    bool is_start = false;
    if (start_ != nullptr) {
      // Match on the line's content, or its first max bytes: known once the "\n" is seen within max+1
      // bytes, or once max+1 bytes without one are (the first max are content then, whatever follows).
      const std::size_t avail = n_ - start;
      const void* nl = std::memchr(b_ + start, '\n', std::min(avail, max_ + 1));
      std::size_t len;
      if (nl != nullptr) {
        nl_hint_ = static_cast<const char*>(nl) - b_;
        len = ContentEnd(nl_hint_, start) - start;
      } else if (avail > max_) {
        len = max_;
      } else if (at_end_) {
        len = avail;
      } else {
        return false;  // wait for more of the line
      }
      is_start = re2::RE2::PartialMatch(re2::StringPiece(b_ + start, std::min(len, max_)), *start_);
    }
    if (is_start) {
      if (st_.open == FramerState::Open::kMulti) CloseMulti(start);
      st_.open = FramerState::Open::kMulti;
      st_.multi = false;
    } else if (st_.open == FramerState::Open::kMulti) {
      if (!st_.multi) {
        st_.multi = true;
        ++c_.multiline_records;
      }
      if (st_.dropping) {
        c_.truncated_bytes += st_.drop_term;  // the previous line's terminator was record content
        st_.drop_term = 0;
      } else {
        Cut(start);  // the previous line's terminator is record content now
      }
    } else {
      st_.open = FramerState::Open::kLine;  // a record of its own
    }
    st_.in_line = true;
    return true;
  }

  // The rest of a line of a truncated record: dropped. A multiline record keeps dropping lines until the
  // next start line.
  bool DropRest() {
    std::size_t nl = nl_hint_;
    if (nl == kNone && cur_ < n_) {
      const void* p = std::memchr(b_ + cur_, '\n', n_ - cur_);
      if (p != nullptr) nl = static_cast<const char*>(p) - b_;
    }
    if (nl != kNone) {
      const std::size_t content_end = ContentEnd(nl, cur_);
      c_.truncated_bytes += content_end - cur_;
      nl_hint_ = kNone;
      done_ = cur_ = nl + 1;
      st_.in_line = false;
      if (st_.open == FramerState::Open::kLine) {
        st_.open = FramerState::Open::kNone;
        st_.dropping = false;
      } else {
        st_.drop_term = static_cast<std::uint8_t>(nl + 1 - content_end);
      }
      return true;
    }
    // No end yet: drop what we have, but keep a final "\r", which may be half of the terminator.
    const std::size_t keep = !at_end_ && n_ > cur_ && b_[n_ - 1] == '\r' ? 1 : 0;
    c_.truncated_bytes += n_ - keep - cur_;
    done_ = cur_ = n_ - keep;
    return false;
  }

  // The rest of a line of the open record (a line of its own, or one of a multiline record).
  bool RecordRest() {
    for (;;) {
      // A record piece of max bytes may be followed by "\r\n": nothing past that needs to be looked at.
      const std::size_t limit = n_ - done_ > max_ + 2 ? done_ + max_ + 2 : n_;
      std::size_t nl = kNone;
      if (nl_hint_ != kNone) {
        if (nl_hint_ < limit) nl = nl_hint_;
      } else if (cur_ < limit) {
        const void* p = std::memchr(b_ + cur_, '\n', limit - cur_);
        if (p != nullptr) nl = static_cast<const char*>(p) - b_;
      }
      if (nl != kNone) {
        const std::size_t content_end = ContentEnd(nl, done_);
        if (Cut(content_end)) return true;
        nl_hint_ = kNone;
        cur_ = nl + 1;
        st_.in_line = false;
        if (st_.open == FramerState::Open::kLine) {
          if (content_end > done_) {
            Emit(done_, content_end, cur_);
          } else {
            ++c_.empty_lines;
          }
          done_ = cur_;
          st_.open = FramerState::Open::kNone;
        }
        return true;
      }
      if (limit < n_) {
        // max+2 bytes without a "\n": the content goes on past limit-1, so a piece can be cut.
        if (Cut(limit - 1)) return true;
        cur_ = std::max(cur_, limit);
        continue;
      }
      if (at_end_) {
        // The line ends with the data, without a terminator: all its bytes are content.
        if (Cut(n_)) return true;
        cur_ = n_;
        st_.in_line = false;
        if (st_.open == FramerState::Open::kLine) {
          if (n_ > done_) Emit(done_, n_, n_);
          done_ = n_;
          st_.open = FramerState::Open::kNone;
        }
        return false;
      }
      // The last byte may be the "\r" of a "\r\n": only the bytes before it are surely content.
      if (n_ > 0 && Cut(n_ - 1)) return true;
      cur_ = n_;
      return false;
    }
  }

  const std::size_t max_;
  const bool truncate_;
  const re2::RE2* const start_;
  const char* const b_;
  const std::size_t n_;
  const std::uint64_t offset_;
  FramerState& st_;
  std::vector<Record>& out_;
  FramingCounters& c_;
  const bool at_end_;
  std::size_t done_ = 0;         // consumed
  std::size_t cur_ = 0;          // scanned
  std::size_t nl_hint_ = kNone;  // the "\n" ending the current line, when matching found it
};

Result<RecordFramer> RecordFramer::Create(FramerOptions options) {
  if (options.max_record_bytes == 0 || options.max_record_bytes > kMaxRecordLimit) {
    return Error(ErrorCode::kInvalidArgument, "max_record_bytes must be between 1 and " +
                                                  std::to_string(kMaxRecordLimit) + ", not " +
                                                  std::to_string(options.max_record_bytes));
  }
  std::shared_ptr<const re2::RE2> start;
  if (!options.multiline_start.empty()) {
    re2::RE2::Options re_options;
    re_options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(options.multiline_start, re_options);
    if (!re->ok()) {
      return Error(ErrorCode::kInvalidArgument,
                   "invalid multiline_start pattern \"" + options.multiline_start + "\": " + re->error());
    }
    start = std::move(re);
  }
  return RecordFramer(std::move(options), std::move(start));
}

FramerState RecordFramer::NewFileState(bool from_start) const {
  FramerState state;
  state.header_lines_left = from_start ? options_.skip_header_lines : 0;
  return state;
}

std::size_t RecordFramer::Frame(std::string_view bytes, std::uint64_t offset, FramerState& state,
                                std::vector<Record>& out, FramingCounters& counters) const {
  return Run(bytes, offset, state, out, counters, false);
}

std::size_t RecordFramer::Flush(std::string_view bytes, std::uint64_t offset, FramerState& state,
                                std::vector<Record>& out, FramingCounters& counters) const {
  return Run(bytes, offset, state, out, counters, true);
}

std::size_t RecordFramer::Run(std::string_view bytes, std::uint64_t offset, FramerState& state,
                              std::vector<Record>& out, FramingCounters& counters, bool at_end) const {
  return Pass(*this, bytes, offset, state, out, counters, at_end).Run();
}

FramingCounters& FramingCounters::operator+=(const FramingCounters& o) {
  records += o.records;
  empty_lines += o.empty_lines;
  split_records += o.split_records;
  truncated_records += o.truncated_records;
  truncated_bytes += o.truncated_bytes;
  header_lines += o.header_lines;
  multiline_records += o.multiline_records;
  return *this;
}

}  // namespace ferry
