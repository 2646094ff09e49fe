// FileTailer: discovery and identity, rotation decisions, timers, descriptors, and handle lifetimes.
#include "agent/source/file_tailer.h"

#include "agent/core/log_fields.h"
#include "agent/core/uv_handle.h"
#include "agent/source/tailed_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "agent/checkpoint/fingerprint.h"
#include "agent/core/errno_text.h"
#include "agent/source/start_position.h"

namespace ferry {
namespace {

// Housekeeping period: quiet-time flushes, closing drained and inactive files, descriptor hand-over.
constexpr std::uint64_t kTickMs = 500;
// A rescan after a directory event waits this long, so a burst of events costs one scan.
constexpr std::uint64_t kRescanDelayMs = 20;
// A file no glob names any more is closed once it has been at its end for this long.
constexpr std::uint64_t kDrainQuietMs = 1000;
// How long a shrunk file's read position is kept for a copy that may still appear.
constexpr std::uint64_t kTruncationMemoryMs = 30'000;

}  // namespace

std::string ReadPrefix(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

bool PrefixAgrees(std::string_view a, std::string_view b) {
  std::size_t n = std::min(a.size(), b.size());
  return n > 0 && a.substr(0, n) == b.substr(0, n);
}

FileTailer::FileTailer(uv_loop_t* loop, spdlog::logger& log, const Clock& clock, TailerOptions options,
                       Discovery discovery, RecordFramer framer, MemoryBudget& budget, AckTracker& acks,
                       BatchSink& sink)
    : loop_(loop),
      log_(log),
      clock_(clock),
      options_(std::move(options)),
      discovery_(std::move(discovery)),
      framer_(std::move(framer)),
      budget_(budget),
      acks_(acks),
      sink_(sink) {
  for (uv_timer_t* t :
       {&scan_timer_, &pass_timer_, &tick_timer_, &rescan_timer_, &checkpoint_timer_, &pace_timer_}) {
    uv_timer_init(loop_, t);
    t->data = this;
    ++open_handles_;
  }
  ack_group_ = acks_.OpenGroup([this](std::uint64_t bytes) { OnAcked(bytes); });
  if (!options_.checkpoint_path.empty()) {
    writer_ = std::make_unique<CheckpointWriter>(
        loop_, options_.checkpoint_path,
        [this](const CheckpointWriter::Outcome& outcome) { OnCheckpointWritten(outcome); });
  }
}

FileTailer::~FileTailer() {
  acks_.CloseGroup(ack_group_);
  if (budget_waiter_ != 0) budget_.RemoveWaiter(budget_waiter_);
  for (auto& [key, file] : files_) {
    if (file->fd >= 0) ::close(file->fd);
  }
}

void FileTailer::Start() {
  written_at_ = Now();
  budget_waiter_ = budget_.AddWaiter([this] { SchedulePass(); });
  LoadCheckpoints();
  const bool first_start = first_start_;
  Scan();
  first_start_ = false;
  // Written at once: were ferry killed before the first interval, its next start would again find no
  // checkpoints, take itself for a first start, and skip with start_at: end what was written meanwhile.
  if (first_start) SaveCheckpoints();
  auto every = [](Duration d) { return static_cast<std::uint64_t>(std::max<Duration::rep>(d.count(), 1)); };
  uv_timer_start(
      &scan_timer_, [](uv_timer_t* t) { static_cast<FileTailer*>(t->data)->Scan(); },
      every(options_.scan_interval), every(options_.scan_interval));
  uv_timer_start(
      &tick_timer_, [](uv_timer_t* t) { static_cast<FileTailer*>(t->data)->Tick(); }, kTickMs, kTickMs);
  if (writer_) {
    uv_timer_start(
        &checkpoint_timer_,
        [](uv_timer_t* t) { static_cast<FileTailer*>(t->data)->WantCheckpoint(Want::kDurable); },
        every(options_.checkpoint_interval), every(options_.checkpoint_interval));
  }
}

bool FileTailer::WarnOnce(const std::string& path, const std::string& message) {
  reported_in_scan_.insert(path);
  auto [it, fresh] = warned_.try_emplace(path, message);
  if (!fresh && it->second == message) return false;
  it->second = message;
  log_.warn("flow {}: {}: {}", options_.flow, LogFile{path}, message);
  return true;
}

void FileTailer::Report(const std::string& path, ScanProblemKind kind, const std::string& message) {
  if (kind == ScanProblemKind::kVanished) {
    // Rotation deletes files all the time: worth a count and an info line, not a warning.
    ++counters_.vanished;
    log_.info("flow {}: {}: {}", options_.flow, LogFile{path}, message);
    return;
  }
  if (!WarnOnce(path, message + "; not read")) return;
  switch (kind) {
    case ScanProblemKind::kNotRegular:
      ++counters_.skipped_not_regular;
      break;
    case ScanProblemKind::kPermissionDenied:
      ++counters_.skipped_unreadable;
      break;
    case ScanProblemKind::kBrokenLink:
      ++counters_.skipped_broken_links;
      break;
    case ScanProblemKind::kVanished:
    case ScanProblemKind::kError:
      ++counters_.skipped_errors;
      break;
  }
}

void FileTailer::ScheduleScan() {
  if (stopping_ || scan_scheduled_) return;
  scan_scheduled_ = true;
  uv_timer_start(
      &rescan_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<FileTailer*>(t->data);
        self->scan_scheduled_ = false;
        self->Scan();
      },
      kRescanDelayMs, 0);
}

void FileTailer::Scan() {
  if (stopping_) return;
  bool first_scan = first_start_;
  DiscoveryResult result = discovery_.Scan();
  reported_in_scan_.clear();
  for (const auto& problem : result.problems) Report(problem.path, problem.kind, problem.reason);
  WatchDirectories(result.directories);

  std::set<FileKey> seen;
  for (const FoundFile& found : result.files) {
    seen.insert({found.st.st_dev, found.st.st_ino});
    Discover(found, first_scan);
  }
  // A file no glob names any more was rotated away or deleted: it is drained from its descriptor and
  // closed once quiet (Tick). A closed one is looked for in its folder (FollowLost).
  std::vector<FileKey> lost;
  for (auto& [key, file] : files_) {
    if (seen.contains(key)) {
      file->gone = false;
      continue;
    }
    if (file->fd < 0) {
      lost.push_back(key);
    } else if (!file->gone) {
      file->gone = true;
      file->gone_at = Now();
      log_.info("flow {}: {} is gone or renamed out of the globs; draining it", options_.flow,
                LogFile{file->path});
    }
  }
  if (!lost.empty()) FollowLost(lost);
  // A path that is no longer a problem is forgotten, so it is reported again if it becomes one.
  std::erase_if(warned_, [&](const auto& w) { return !reported_in_scan_.contains(w.first); });
  if (!scanned_once_) RecoverRotatedAway();
  scanned_once_ = true;
  if (!checkpoints_.empty() && waiting_.empty()) {
    // Checkpoints no file claimed once every found file had its turn belong to files that are gone (or
    // were read to their end; RecoverRotatedAway took the others).
    checkpoints_.clear();
    claimed_.clear();
    Changed();
  }
  SchedulePass();
}

void FileTailer::WatchDirectories(const std::vector<std::string>& directories) {
  for (const auto& dir : directories) {
    if (watches_.contains(dir)) continue;
    auto watch = std::make_unique<Watch>();
    watch->owner = this;
    watch->dir = dir;
    if (uv_fs_event_init(loop_, &watch->handle) != 0) continue;
    watch->handle.data = watch.get();
    ++open_handles_;
    int rc = uv_fs_event_start(
        &watch->handle,
        [](uv_fs_event_t* h, const char* name, int events, int) {
          auto* w = static_cast<Watch*>(h->data);
          w->owner->OnDirectoryEvent(w->dir, name, events);
        },
        dir.c_str(), 0);
    if (rc != 0) {
      WarnOnce(dir, std::string("no change events (") + uv_strerror(rc) + "); relying on the periodic scan");
      CloseWatch(std::move(watch));
      continue;
    }
    watches_.emplace(dir, std::move(watch));
  }
}

void FileTailer::OnDirectoryEvent(const std::string& dir, const char* name, int events) {
  // Only growth of a file read from its descriptor is handled by a pass alone. A create, rename or delete
  // (UV_RENAME) calls for a scan even where the name is one we know: rotation moves names between files, so
  // the name may already mean another file (logrotate's new app.log.1 while ours, now app.log.2, is open).
  if (name != nullptr && (events & UV_RENAME) == 0) {
    auto it = by_path_.find(dir == "/" ? "/" + std::string(name) : dir + "/" + name);
    if (it != by_path_.end()) {
      auto file = files_.find(it->second);
      if (file != files_.end() && file->second->fd >= 0) {
        SchedulePass();
        return;
      }
    }
  }
  ScheduleScan();  // a create, rename or delete, or growth of a file without a descriptor
}

void FileTailer::Discover(const FoundFile& found, bool first_scan) {
  FileKey key{found.st.st_dev, found.st.st_ino};
  auto it = files_.find(key);
  if (it == files_.end()) {
    if (!OpenNew(found.path, found.st, first_scan)) {
      bool queued =
          std::any_of(waiting_.begin(), waiting_.end(), [&](const auto& w) { return w.first == found.path; });
      if (!queued && open_count_ >= options_.max_open_files) waiting_.emplace_back(found.path, first_scan);
    }
    return;
  }
  File& file = *it->second;
  if (file.path != found.path) {
    log_.info("flow {}: {} was renamed to {}; following it", options_.flow, LogFile{file.path}, found.path);
    if (by_path_[file.path] == key) by_path_.erase(file.path);
    file.path = found.path;
    ++counters_.renames;
    CountRotation(file);
    Changed();
  }
  by_path_[file.path] = key;
  auto size = static_cast<std::uint64_t>(found.st.st_size);
  if (file.fd < 0 && !file.held && size != file.offset) Reopen(file);
}

bool FileTailer::TakeDescriptorSlot() {
  if (open_count_ < options_.max_open_files) return true;
  // Make room by closing the file idle longest among those read to their end.
  File* idle = nullptr;
  for (auto& [key, file] : files_) {
    if (file->fd < 0 || file->held || file->offset < file->size || !file->carry.empty()) continue;
    if (idle == nullptr || file->changed_at < idle->changed_at) idle = file.get();
  }
  if (idle == nullptr) return false;
  CloseDescriptor(*idle);
  return true;
}

bool FileTailer::OpenNew(const std::string& path, const struct stat& st, bool first_scan) {
  if (!TakeDescriptorSlot()) return false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    ScanProblemKind kind = err == ENOENT                   ? ScanProblemKind::kVanished
                           : err == EACCES || err == EPERM ? ScanProblemKind::kPermissionDenied
                                                           : ScanProblemKind::kError;
    Report(path, kind,
           kind == ScanProblemKind::kVanished ? "vanished before it could be opened"
                                              : "cannot open: " + ErrnoText(err));
    return true;  // not a lack of descriptors: do not queue it
  }
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || opened.st_ino != st.st_ino || opened.st_dev != st.st_dev ||
      !S_ISREG(opened.st_mode)) {
    ::close(fd);  // replaced between the scan and the open; the next scan sees the new file
    Report(path, ScanProblemKind::kVanished, "replaced between the scan and the open; looking again");
    ScheduleScan();
    return true;
  }
  auto file = std::make_unique<File>();
  file->key = {opened.st_dev, opened.st_ino};
  file->path = path;
  file->fd = fd;
  file->size = static_cast<std::uint64_t>(opened.st_size);
  file->changed_at = Now();
  ++open_count_;
  ++counters_.files_opened;
  file->prefix = ReadPrefix(fd, std::min<std::uint64_t>(file->size, kFingerprintBytes));
  file->fingerprint = FingerprintOf(file->prefix);
  file->undecided = true;
  warned_.erase(path);
  by_path_[path] = file->key;
  File& ref = *file;
  files_.emplace(file->key, std::move(file));
  if (!Revive(ref)) Decide(ref, first_scan);
  return true;
}

bool FileTailer::Decide(File& file, bool first_scan) {
  // An empty file says nothing about itself yet (a new log, or a copy just begun): decide once it has bytes.
  // It was empty at the first start too, so start_at cannot skip anything of it.
  if (file.size == 0) return false;
  file.undecided = false;
  // The copy of a file that shrank a moment ago continues where the original was.
  for (auto t = truncations_.begin(); t != truncations_.end(); ++t) {
    if (PrefixAgrees(file.prefix, t->prefix)) {
      Truncation from = std::move(*t);
      truncations_.erase(t);
      Continue(file, std::move(from));
      return true;
    }
  }
  // A file that starts like a file being read may be its copytruncate copy: hold it back until the
  // original shrinks (or copy_hold passes).
  for (auto& [key, other] : files_) {
    if (other.get() == &file || other->fd < 0 || other->held || other->undecided || other->gone) continue;
    if (PrefixAgrees(file.prefix, other->prefix)) {
      file.held = true;
      file.copy_of = key;
      file.held_at = Now();
      log_.info("flow {}: {} starts like {}; holding it back as a possible copytruncate copy", options_.flow,
                file.path, other->path);
      return true;
    }
  }
  int fd = file.fd;
  auto matches = [fd](const Fingerprint& fp) {
    auto m = MatchesPrefix(fd, fp);
    return m.ok() && *m;
  };
  FileFacts facts{file.key.first, file.key.second, file.size, matches};
  StartDecision start = DecideStart(facts, checkpoints_, claimed_, first_scan, options_.start_at);
  if (start.checkpoint >= 0 && start.reason != StartReason::kContentChanged) {
    claimed_[static_cast<std::size_t>(start.checkpoint)] = true;
  }
  file.offset = start.offset;
  file.framer = framer_.NewFileState(start.offset == 0);
  file.source = OpenSource(start.offset);
  Changed();
  if (start.reason == StartReason::kShrunkWhileAway || start.reason == StartReason::kContentChanged) {
    log_.warn("flow {}: {}: {}", options_.flow, LogFile{file.path}, ToString(start.reason));
  } else {
    log_.info("flow {}: reading {} from offset {} ({})", options_.flow, LogFile{file.path}, start.offset,
              ToString(start.reason));
  }
  return true;
}

bool FileTailer::Reopen(File& file) {
  if (!TakeDescriptorSlot()) return false;
  int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      ScheduleScan();  // moved or deleted since the scan: the next scan follows it (FollowLost)
    } else {
      Report(file.path,
             err == EACCES || err == EPERM ? ScanProblemKind::kPermissionDenied : ScanProblemKind::kError,
             "cannot reopen: " + ErrnoText(err));
    }
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || FileKey{st.st_dev, st.st_ino} != file.key) {
    // Another file took the path since the scan: the next scan sees where this one went.
    ::close(fd);
    ScheduleScan();
    return false;
  }
  auto same = MatchesPrefix(fd, file.fingerprint);
  if (file.fingerprint.length == 0 || (same.ok() && *same)) {
    file.fd = fd;
    file.prefix = ReadPrefix(fd, file.fingerprint.length);
    file.changed_at = Now();
    ++open_count_;
    return true;
  }
  ::close(fd);
  // Same inode, other content: the file was deleted and its inode reused; nothing of it is left to resume.
  log_.info("flow {}: {} changed identity while closed (inode reused); rescanning", options_.flow,
            LogFile{file.path});
  Forget(file.key, /*content_gone=*/true);
  ScheduleScan();
  return false;
}

void FileTailer::SchedulePass() {
  if (stopping_ || pass_scheduled_) return;
  pass_scheduled_ = true;
  uv_timer_start(
      &pass_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<FileTailer*>(t->data);
        self->pass_scheduled_ = false;
        self->ReadPass();
      },
      0, 0);
}

bool FileTailer::GrewSinceRead(File& file) {
  // file.size is what the last read's fstat saw, and "quiet" is the time since that read. Reading pauses
  // while the writer goes on (the memory budget spent, or the flow busy with another file's backlog), so a
  // file at that size is not known to be at its end: a file renamed out of the globs and declared drained
  // there would be closed short, losing every line appended since. Look again before acting on it; one
  // that has grown is left to the read pass (which, while the budget is spent, resumes when it has room).
  // Only growth: a shorter file (a copy still filling, a truncation) is the read pass's to judge, as before.
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) <= file.offset) return false;
  file.size = static_cast<std::uint64_t>(st.st_size);
  SchedulePass();
  return true;
}

void FileTailer::Tick() {
  // With no file open (held copies are open too) there is nothing to flush, drain or close: thousands of
  // idle files cost nothing here.
  if (open_count_ == 0 && truncations_.empty() && waiting_.empty()) return;
  std::uint64_t now = Now();
  std::vector<FileKey> done;
  for (auto& [key, file] : files_) {
    File& f = *file;
    if (f.held) {
      if (now - f.held_at >= static_cast<std::uint64_t>(options_.copy_hold.count())) {
        // Its original never shrank: an ordinary file after all.
        log_.info("flow {}: {} was not a copytruncate copy; reading it from 0", options_.flow, f.path);
        f.held = false;
        f.offset = 0;
        f.framer = framer_.NewFileState(true);
        f.source = OpenSource(0);
        Changed();
        SchedulePass();
      }
      continue;
    }
    if (f.fd < 0 || f.offset < f.size) continue;
    std::uint64_t quiet = now - f.changed_at;
    const bool pending = !f.carry.empty() || framer_.HasPendingRecord(f.framer);
    bool due = false;
    if (pending) {
      auto timeout =
          framer_.HasPendingRecord(f.framer) ? options_.multiline_timeout : options_.partial_line_timeout;
      due = quiet >= static_cast<std::uint64_t>(timeout.count()) || f.gone;
    } else if (f.gone) {
      due = now - f.gone_at >= kDrainQuietMs && quiet >= kDrainQuietMs;
    } else {
      due = quiet >= static_cast<std::uint64_t>(options_.close_inactive.count()) || !waiting_.empty();
    }
    if (!due || GrewSinceRead(f)) continue;
    if (pending) {
      Flush(f);
    } else if (f.gone) {
      done.push_back(key);
    } else {
      CloseDescriptor(f);
    }
  }
  for (const auto& key : done) {
    log_.info("flow {}: {} drained; closing it at offset {}", options_.flow, LogFile{files_[key]->path},
              files_[key]->offset);
    Forget(key);
  }
  // A shrunk file's old content is in no file the checkpoint names (its inode now holds the new content,
  // and a copy in the globs takes the source over in Continue), so its source needs no retention.
  std::erase_if(truncations_, [&](const Truncation& t) {
    if (now - t.at < kTruncationMemoryMs) return false;
    acks_.Close(t.source);
    return true;
  });
  // Hand freed descriptors to files that wait for one.
  std::vector<std::pair<std::string, bool>> waiting;
  waiting.swap(waiting_);
  for (auto& [path, first] : waiting) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      Report(
          path, errno == ENOENT ? ScanProblemKind::kVanished : ScanProblemKind::kError,
          errno == ENOENT ? "vanished while waiting for a descriptor" : "cannot stat: " + ErrnoText(errno));
      continue;
    }
    if (!S_ISREG(st.st_mode) || files_.contains({st.st_dev, st.st_ino})) continue;
    if (!OpenNew(path, st, first)) waiting_.emplace_back(path, first);
  }
  if (!waiting.empty()) SchedulePass();
}

void FileTailer::CloseDescriptor(File& file) {
  if (file.fd < 0) return;
  ::close(file.fd);
  file.fd = -1;
  std::string().swap(file.prefix);  // kept only for open files; the fingerprint stays
  --open_count_;
  ++counters_.files_closed;
}

void FileTailer::CloseWatch(std::unique_ptr<Watch> watch) {
  // The watch lives until its handle is closed.
  Watch* closing = watch.release();
  CloseHandle(&closing->handle, [this, closing] {
    delete closing;
    HandleClosed();
  });
}

void FileTailer::HandleClosed() {
  if (--open_handles_ == 0 && on_closed_) {
    auto done = std::move(on_closed_);
    done();
  }
}

void FileTailer::Stop(std::function<void()> on_closed) {
  stopping_ = true;
  on_closed_ = std::move(on_closed);
  for (uv_timer_t* t :
       {&scan_timer_, &pass_timer_, &tick_timer_, &rescan_timer_, &checkpoint_timer_, &pace_timer_}) {
    CloseHandle(t, [this] { HandleClosed(); });
  }
  for (auto& [key, file] : files_) CloseDescriptor(*file);
  for (auto& [dir, watch] : watches_) CloseWatch(std::move(watch));
  watches_.clear();
}

}  // namespace ferry
