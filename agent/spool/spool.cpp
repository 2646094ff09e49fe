// Spool: segment bookkeeping on the loop; the disk jobs that create, write, sync, read back and delete
// segments on libuv's thread pool, one at a time, with what they work on handed over by value (the entries'
// bytes, the segment writer, paths) and their findings handed back; replay in order.
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

// A disk job: what it works on is moved in on the loop, what it found is read back there (pool_runner.h).
struct Spool::DiskJob : PoolRunner::Job {
  // Housekeeping, done first: writers of closed segments to close, acknowledged segments to delete.
  std::vector<SegmentWriter> retire;
  std::vector<std::string> unlink;
  // Appends: entries for one segment, framed on the loop, written with one pwrite and made durable with
  // one sync; all or nothing.
  std::uint64_t segment = 0;
  std::optional<SegmentWriter> writer;  // the segment's writer; none: create create_path first
  std::string create_path;
  SegmentWriter::SyncCall sync;
  std::string framed;
  std::size_t entries = 0;
  // Read-back of a whole segment, into memory allocated on the loop.
  std::uint64_t load_segment = 0;
  std::string load_path;
  std::string load_buffer;

  // What Work found.
  std::vector<std::string> problems;  // for the log: closing or deleting failed
  std::optional<Error> write_error;   // why the entries are not durable
  bool synced = false;                // a sync was attempted
  std::uint64_t start_offset = 0;     // the segment's size before and after
  std::uint64_t end_offset = 0;
  Result<std::string> loaded{std::string()};

  bool durable() const { return entries > 0 && !write_error; }

  void Work() override {
    for (auto& w : retire) {
      Status closed = w.Close();
      if (!closed) problems.push_back(closed.error().message());
    }
    retire.clear();
    for (const auto& path : unlink) {
      // Left behind, it is replayed after the next start: duplicates, not loss.
      if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        problems.push_back(fmt::format("cannot delete spool segment {}: {}", path, ErrnoText(errno)));
    }
    if (entries > 0) WriteEntries();
    if (!load_path.empty()) loaded = LoadSegment(load_path, std::move(load_buffer));
  }

  void WriteEntries() {
    if (!writer) {
      auto created = SegmentWriter::Create(std::move(create_path), std::move(sync));
      if (!created) {
        write_error = created.error();
        return;
      }
      writer.emplace(std::move(*created));
    }
    start_offset = writer->offset();
    Status written = writer->AppendFramed(framed);
    if (written) {
      synced = true;
      written = writer->Sync();  // after a failed sync none of them is sure to be on disk
    }
    end_offset = writer->offset();
    if (written) return;
    write_error = written.error();
    // A writer that failed is done; the next entry starts a new segment.
    Status closed = writer->Close();
    if (!closed) problems.push_back(closed.error().message());
    if (end_offset == 0) ::unlink(writer->path().c_str());  // nothing made it in
    writer.reset();
  }
};

Spool::Spool(uv_loop_t* loop, std::string folder, std::uint64_t max_bytes, std::string label,
             spdlog::logger& log, const Clock& clock, MemoryBudget* budget, SegmentWriter::SyncCall sync)
    : folder_(std::move(folder)),
      max_bytes_(max_bytes),
      label_(std::move(label)),
      log_(log),
      clock_(clock),
      budget_(budget),
      sync_(std::move(sync)),
      runner_(loop) {}

Spool::~Spool() {
  // Only when the loop is done (or a test ends): what still waits to be deleted is deleted here.
  for (const auto& path : unlink_) ::unlink(path.c_str());
  if (budget_ != nullptr) {
    for (const auto& p : queued_) budget_->Give(p.charged);
    for (const auto& p : writing_) budget_->Give(p.charged);
  }
}

Result<std::unique_ptr<Spool>> Spool::Open(uv_loop_t* loop, std::string folder, std::uint64_t max_bytes,
                                           std::string label, spdlog::logger& log, const Clock& clock,
                                           MemoryBudget* budget, SegmentWriter::SyncCall sync) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec)
    return Error(ErrorCode::kIo, fmt::format("spool folder {}: cannot create: {}", folder, ec.message()));
  std::unique_ptr<Spool> spool(
      new Spool(loop, std::move(folder), max_bytes, std::move(label), log, clock, budget, std::move(sync)));
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

Status Spool::Append(std::span<const WireRecord> records, Done done) {
  if (records.empty())
    return Error(ErrorCode::kInvalidArgument, fmt::format("spool {}: an entry needs records", folder_));
  auto entry = EncodeSpoolEntry(records);
  if (!entry) return entry.error();
  // Where it lands is known only when its job starts: the most its framing can take is held until then.
  const std::uint64_t most = MaxFramedSize(entry->size());
  if (bytes_ + reserved_ + most > max_bytes_) {
    ++counters_.full_refusals;
    return Error(ErrorCode::kFull,
                 fmt::format("spool {} is full: {} bytes held, {} more would pass max_bytes {}", folder_,
                             bytes_ + reserved_, most, max_bytes_));
  }
  Pending pending;
  pending.entry = std::move(*entry);
  pending.charged = pending.entry.size();
  pending.reserved = most;
  for (const auto& r : records) pending.user_records += r.user_records;
  pending.done = std::move(done);
  reserved_ += most;
  if (budget_ != nullptr) budget_->Take(pending.charged);
  queued_.push_back(std::move(pending));
  Pump();
  return Status::Ok();
}

void Spool::Pump() {
  if (runner_.busy()) return;
  auto job = std::make_unique<DiskJob>();
  job->retire = std::move(retiring_);
  retiring_.clear();
  job->unlink = std::move(unlink_);
  unlink_.clear();
  if (load_) {
    if (const Segment* segment = Find(*load_)) {
      job->load_segment = segment->number;
      job->load_path = segment->path;
      job->load_buffer.reserve(segment->bytes + 1);  // ReadWholeFile reads one byte past the size
      loading_ = true;
    }
    load_.reset();
  }
  if (!queued_.empty()) TakeAppends(*job);
  if (job->retire.empty() && job->unlink.empty() && job->entries == 0 && job->load_path.empty()) return;
  runner_.Run<DiskJob>(std::move(job), [this](std::unique_ptr<DiskJob> done) { OnJobDone(std::move(done)); });
}

void Spool::TakeAppends(DiskJob& job) {
  // The open segment takes them while it has room (and the reader has not closed it); else a new one starts.
  const std::size_t first = queued_.front().entry.size();
  if (writer_ &&
      (segments_.back().closed || writer_->offset() >= kSegmentTargetBytes || !writer_->Fits(first))) {
    segments_.back().closed = true;
    job.retire.push_back(std::move(*writer_));
    writer_.reset();
  }
  std::uint64_t offset = 0;
  if (writer_) {
    offset = writer_->offset();
    job.writer = std::move(writer_);
    writer_.reset();
    job.segment = segments_.back().number;
  } else {
    Segment segment;
    segment.number = next_number_++;
    segment.path = SegmentPath(segment.number);
    job.segment = segment.number;
    job.create_path = segment.path;
    job.sync = sync_;
    segments_.push_back(std::move(segment));
  }
  // The appends that fit, framed at the offsets they will have (a pool thread then only writes).
  std::size_t count = 0;
  std::uint64_t end = offset;
  for (const Pending& next : queued_) {
    if (count > 0 && (end >= kSegmentTargetBytes || !FitsInSegment(end, next.entry.size()))) break;
    end += FramedSize(end, next.entry.size());
    ++count;
  }
  job.framed.reserve(end - offset);
  for (; count > 0; --count) {
    Pending& next = queued_.front();
    offset = FrameEntry(offset, next.entry, &job.framed);
    std::string().swap(next.entry);
    ++job.entries;
    writing_.push_back(std::move(next));
    queued_.pop_front();
  }
}

void Spool::OnJobDone(std::unique_ptr<DiskJob> job) {
  for (const auto& problem : job->problems) log_.warn("{}: {}", label_, problem);
  std::vector<Pending> finished;
  Status outcome = Status::Ok();
  if (!writing_.empty()) {
    FinishAppends(*job);
    finished.swap(writing_);
    if (job->write_error) outcome = *job->write_error;
  }
  const bool loaded = loading_;
  if (loading_) FinishLoad(*job);
  Pump();  // the appends queued meanwhile go now, as one group
  // Last: a caller may append again from its callback.
  for (auto& p : finished)
    if (p.done) p.done(outcome);
  if ((job->durable() || loaded) && on_readable_) on_readable_();
  runner_.RunIdleWaiters();
}

void Spool::WhenIdle(std::function<void()> idle_done) {
  runner_.WhenIdle(std::move(idle_done));
}

void Spool::FinishAppends(DiskJob& job) {
  Segment* segment = Find(job.segment);
  if (segment == nullptr) return;  // cannot be: a segment is deleted only once read, after its writes
  bytes_ += job.end_offset - segment->bytes;
  segment->bytes = job.end_offset;
  if (job.synced) ++counters_.syncs;
  if (job.durable()) {
    if (segment->written == 0) segment->written_s = clock_.UnixSeconds();
    segment->written += job.entries;
    counters_.entries_written += job.entries;
    counters_.bytes_written += job.end_offset - job.start_offset;
  }
  for (const Pending& p : writing_) {
    reserved_ -= p.reserved;
    if (budget_ != nullptr) budget_->Give(p.charged);
    if (job.durable()) {
      counters_.records_written += p.user_records;
    } else {
      ++counters_.write_errors;
    }
  }
  if (job.writer) {
    if (segment->closed) {
      retiring_.push_back(std::move(*job.writer));  // the reader closed it meanwhile
    } else {
      writer_ = std::move(job.writer);
    }
    return;
  }
  // The writer failed: its segment takes no more entries, and goes at once if nothing made it in (the job
  // deleted its file).
  segment->closed = true;
  if (segment->bytes == 0) {
    std::erase_if(segments_, [&](const Segment& s) { return s.number == job.segment; });
  }
}

void Spool::FinishLoad(DiskJob& job) {
  loading_ = false;
  Segment* segment = Find(job.load_segment);
  if (segment == nullptr) return;
  if (!job.loaded) {
    ++counters_.corruptions;
    counters_.bytes_skipped += segment->bytes;
    log_.error("{}: cannot read spool segment: {}; its entries are lost", label_,
               job.loaded.error().message());
    FinishReading(*segment);
    return;
  }
  reading_ = segment->number;
  loaded_ = std::move(*job.loaded);
  reader_.emplace(loaded_, segment->path);
}

bool Spool::StartLoad() {
  if (reader_ || loading_ || load_) return true;
  auto next = std::find_if(segments_.begin(), segments_.end(),
                           [](const Segment& s) { return s.closed && !s.read_done; });
  if (next == segments_.end()) {
    if (segments_.empty() || segments_.back().closed || segments_.back().written == 0) return false;
    // Caught up: read what is being written (a write under way finishes first, jobs run in order); the
    // next append starts a new segment.
    next = std::prev(segments_.end());
    next->closed = true;
    if (writer_) {
      retiring_.push_back(std::move(*writer_));
      writer_.reset();
    }
  }
  load_ = next->number;
  Pump();
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
    if (!reader_) {
      StartLoad();  // on_readable tells when it is in memory
      return false;
    }
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
  unlink_.push_back(std::move(it->path));
  bytes_ -= it->bytes;
  ++counters_.segments_deleted;
  segments_.erase(it);
  Pump();
}

bool Spool::empty() const {
  return queued_.empty() && writing_.empty() &&
         std::all_of(segments_.begin(), segments_.end(),
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
