// Spool: segment bookkeeping, durable appends, replay in order and deletion of acknowledged segments.
#include "agent/spool/spool.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "agent/core/errno_text.h"
#include "agent/core/file_offset.h"
#include "agent/spool/spool_entry.h"

namespace ferry::spool {
namespace {

constexpr std::string_view kSuffix = ".seg";
constexpr std::size_t kNumberDigits = 20;

// "00000000000000000042.seg" -> 42; anything else is not a segment of ours.
std::optional<std::uint64_t> SegmentNumber(std::string_view name) {
  if (name.size() != kNumberDigits + kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + kNumberDigits, n);
  if (ec != std::errc() || end != name.data() + kNumberDigits) return std::nullopt;
  return n;
}

}  // namespace

Spool::Spool(std::string folder, std::uint64_t max_bytes, std::string label, spdlog::logger& log,
             const Clock& clock, MemoryBudget* budget)
    : folder_(std::move(folder)),
      max_bytes_(max_bytes),
      label_(std::move(label)),
      log_(log),
      clock_(clock),
      budget_(budget) {}

Spool::~Spool() {
  // Everything appended was synced; an open segment that never got an entry is only a stray file.
  if (writer_ && !segments_.empty() && segments_.back().bytes == 0) ::unlink(segments_.back().path.c_str());
}

Result<std::unique_ptr<Spool>> Spool::Open(std::string folder, std::uint64_t max_bytes, std::string label,
                                           spdlog::logger& log, const Clock& clock, MemoryBudget* budget) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec)
    return Error(ErrorCode::kIo, fmt::format("spool folder {}: cannot create: {}", folder, ec.message()));
  std::unique_ptr<Spool> spool(new Spool(std::move(folder), max_bytes, std::move(label), log, clock, budget));
  Status scanned = spool->Scan();
  if (!scanned) return scanned.error();
  return spool;
}

Status Spool::Scan() {
  std::error_code ec;
  std::vector<Segment> found;
  for (auto it = std::filesystem::directory_iterator(folder_, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    auto number = SegmentNumber(it->path().filename().native());
    if (!number) continue;
    std::string path = it->path().string();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_size == 0) {  // created, then the process died before its first entry
      ::unlink(path.c_str());
      continue;
    }
    Segment s;
    s.number = *number;
    s.path = std::move(path);
    s.bytes = static_cast<std::uint64_t>(st.st_size);
    s.closed = true;
    s.written_s = st.st_mtime;
    found.push_back(std::move(s));
  }
  if (ec)
    return Error(ErrorCode::kIo, fmt::format("spool folder {}: cannot list: {}", folder_, ec.message()));
  std::sort(found.begin(), found.end(),
            [](const Segment& a, const Segment& b) { return a.number < b.number; });
  for (auto& s : found) {
    bytes_ += s.bytes;
    next_number_ = s.number + 1;
    segments_.push_back(std::move(s));
  }
  if (!segments_.empty()) {
    log_.info("{}: the spool holds {} segment(s), {} bytes, from an earlier run; they are sent first", label_,
              segments_.size(), bytes_);
  }
  return Status::Ok();
}

std::string Spool::SegmentPath(std::uint64_t number) const {
  return fmt::format("{}/{:0{}}{}", folder_, number, kNumberDigits, kSuffix);
}

Spool::Segment* Spool::Find(std::uint64_t number) {
  for (auto& s : segments_) {
    if (s.number == number) return &s;
  }
  return nullptr;
}

Status Spool::Append(std::span<const WireRecord> records) {
  if (records.empty()) return Status::Ok();
  auto entry = EncodeSpoolEntry(records);
  if (!entry) return entry.error();
  const bool roll = writer_ && (writer_->offset() >= kSegmentTargetBytes || !writer_->Fits(entry->size()));
  const std::uint64_t framed = FramedSize(writer_ && !roll ? writer_->offset() : 0, entry->size());
  if (bytes_ + framed > max_bytes_) {
    ++counters_.full_refusals;
    return Error(ErrorCode::kFull,
                 fmt::format("spool {} is full: {} bytes held, {} more would pass max_bytes {}", folder_,
                             bytes_, framed, max_bytes_));
  }
  if (roll) CloseWriter();
  if (!writer_) {
    const std::uint64_t number = next_number_++;
    auto created = SegmentWriter::Create(SegmentPath(number));
    if (!created) {
      ++counters_.write_errors;
      return created.error();
    }
    writer_.emplace(std::move(*created));
    Segment s;
    s.number = number;
    s.path = writer_->path();
    segments_.push_back(std::move(s));
  }
  Segment& segment = segments_.back();
  Status written = writer_->Append(*entry);
  if (written) written = writer_->Sync();
  bytes_ += writer_->offset() - segment.bytes;  // a failed append was cut back off
  segment.bytes = writer_->offset();
  if (!written) {
    ++counters_.write_errors;
    CloseWriter();  // a writer that failed is done; the next entry starts a new segment
    return written;
  }
  if (segment.written++ == 0) segment.written_s = clock_.UnixSeconds();
  ++counters_.entries_written;
  counters_.bytes_written += framed;
  for (const auto& r : records) counters_.records_written += r.user_records;
  return Status::Ok();
}

void Spool::CloseWriter() {
  if (!writer_) return;
  Status closed = writer_->Close();
  if (!closed) log_.warn("{}: {}", label_, closed.error().message());
  writer_.reset();
  Segment& segment = segments_.back();
  segment.closed = true;
  if (segment.bytes == 0) {  // nothing made it in
    segment.read_done = true;
    DeleteIfDone(segment.number);
  }
}

bool Spool::OpenReader() {
  auto next = std::find_if(segments_.begin(), segments_.end(),
                           [](const Segment& s) { return s.closed && !s.read_done; });
  if (next == segments_.end()) {
    if (!writer_ || segments_.back().written == 0) return false;
    CloseWriter();  // caught up: read what is being written
    next = std::prev(segments_.end());
  }
  auto loaded = LoadSegment(next->path);
  if (!loaded) {
    ++counters_.corruptions;
    counters_.bytes_skipped += next->bytes;
    log_.error("{}: cannot read spool segment: {}; its entries are lost", label_, loaded.error().message());
    FinishReading(*next);
    return !segments_.empty() && OpenReader();
  }
  reading_ = next->number;
  loaded_ = std::move(*loaded);
  reader_.emplace(loaded_, next->path);
  return true;
}

void Spool::FinishReading(Segment& segment) {
  segment.read_done = true;
  reader_.reset();
  std::string().swap(loaded_);  // give the memory back now, not at the next load
  reading_.reset();
  DeleteIfDone(segment.number);
}

bool Spool::Next(std::vector<WireRecord>* records) {
  std::string entry;
  SegmentCorruption corruption;
  for (;;) {
    if (!reader_ && !OpenReader()) return false;
    Segment* segment = Find(*reading_);
    switch (reader_->Next(&entry, &corruption)) {
      case ReadEvent::kCorruption:
        ++counters_.corruptions;
        counters_.bytes_skipped += corruption.bytes;
        log_.error(
            "{}: spool segment {} is damaged at offset {}: {} ({} bytes skipped); the entries around it "
            "are still sent",
            label_, corruption.segment, corruption.offset, corruption.reason, corruption.bytes);
        continue;
      case ReadEvent::kEnd:
        FinishReading(*segment);
        continue;
      case ReadEvent::kEntry:
        break;
    }
    auto decoded = DecodeSpoolEntry(entry);
    if (!decoded) {
      ++counters_.corruptions;
      counters_.bytes_skipped += reader_->entry_end() - reader_->entry_offset();
      log_.error("{}: spool segment {} has an unreadable entry at offset {}: {}; skipped", label_,
                 segment->path, reader_->entry_offset(), decoded.error().message());
      continue;
    }
    std::size_t bytes = 0;
    for (const auto& r : *decoded)
      bytes += r.data.size() + r.partition_key.size() + r.explicit_hash_key.size();
    BatchRef batch(
        new Batch(segment->number, segment->handed_out++, this, std::max<std::size_t>(bytes, 1), budget_));
    records->clear();
    records->reserve(decoded->size());
    std::size_t users = 0;
    for (const auto& r : *decoded) {
      WireRecord w;
      w.data = batch->arena().Copy(r.data);
      w.partition_key = batch->arena().Copy(r.partition_key);
      w.explicit_hash_key = batch->arena().Copy(r.explicit_hash_key);
      w.batch = batch;
      w.user_records = r.user_records;
      users += r.user_records;
      records->push_back(std::move(w));
    }
    ++entries_out_;
    ++counters_.entries_replayed;
    batch->SealAs(users);  // an entry of no records is acknowledged here and now
    return true;
  }
}

void Spool::OnBatchDone(SourceId segment, std::uint64_t, std::uint64_t) {
  --entries_out_;
  ++counters_.entries_acked;
  if (Segment* s = Find(segment)) {
    ++s->acked;
    DeleteIfDone(segment);
  }
  if (on_acked_) on_acked_();
}

void Spool::DeleteIfDone(std::uint64_t number) {
  auto it =
      std::find_if(segments_.begin(), segments_.end(), [&](const Segment& s) { return s.number == number; });
  if (it == segments_.end() || !it->closed || !it->read_done || it->acked < it->handed_out) return;
  if (::unlink(it->path.c_str()) != 0 && errno != ENOENT) {
    // Left behind, it is replayed after the next start: duplicates, not loss.
    log_.warn("{}: cannot delete spool segment {}: {}", label_, it->path, ErrnoText(errno));
  }
  bytes_ -= it->bytes;
  ++counters_.segments_deleted;
  segments_.erase(it);
}

bool Spool::empty() const {
  return std::all_of(segments_.begin(), segments_.end(),
                     [](const Segment& s) { return !s.closed && s.written == 0; });
}

std::uint64_t Spool::entries_pending() const {
  std::uint64_t n = 0;
  for (const auto& s : segments_) n += std::max(s.written, s.handed_out) - s.acked;
  return n;
}

std::optional<std::int64_t> Spool::oldest_unix_s() const {
  for (const auto& s : segments_) {
    if (s.closed || s.written > 0) return s.written_s;
  }
  return std::nullopt;
}

std::uint64_t Spool::oldest_age_s() const {
  auto oldest = oldest_unix_s();
  if (!oldest) return 0;
  const std::int64_t now = clock_.UnixSeconds();
  return now > *oldest ? static_cast<std::uint64_t>(now - *oldest) : 0;
}

}  // namespace ferry::spool
