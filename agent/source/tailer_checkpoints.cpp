// FileTailer's checkpoints: loading them at start, finding files rotated away while ferry was stopped, and
// writing the acknowledged offsets atomically.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/source/file_tailer.h"
#include "agent/source/start_position.h"
#include "agent/source/tailed_file.h"

namespace ferry {

void FileTailer::LoadCheckpoints() {
  if (options_.checkpoint_path.empty()) return;
  auto loaded = ferry::LoadCheckpoints(options_.checkpoint_path);
  if (!loaded) {
    // Never guess offsets from a damaged file: keep it for a person, and read every file from its start.
    // That may send lines again, but loses none.
    std::string moved;
    if (loaded.error().code() == ErrorCode::kProtocol) {
      (void)QuarantineCheckpoints(options_.checkpoint_path, clock_.UnixSeconds(), &moved);
    }
    log_.error("flow {}: {}{}; every file is read from its start", options_.flow, loaded.error().message(),
               moved.empty() ? "" : "; moved it to " + moved);
    first_start_ = false;
    return;
  }
  if (!loaded->has_value()) return;
  first_start_ = false;
  checkpoints_ = std::move((*loaded)->files);
  claimed_.assign(checkpoints_.size(), false);
  log_.info("flow {}: {} checkpoints loaded from {}", options_.flow, checkpoints_.size(),
            options_.checkpoint_path);
}

void FileTailer::RecoverRotatedAway() {
  // A file rotated out of the globs while ferry was stopped still holds its unread tail. Rotation keeps
  // the inode and (nearly always) the folder, so look there for the checkpoint's inode and drain it.
  for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
    const FileCheckpoint& cp = checkpoints_[i];
    if (claimed_[i]) continue;
    std::string dir = cp.path.substr(0, cp.path.rfind('/') + 1);
    DIR* d = ::opendir(dir.empty() ? "/" : dir.c_str());
    if (d == nullptr) continue;
    std::string found;
    while (dirent* entry = ::readdir(d)) {
      if (entry->d_ino == cp.ino) {
        found = dir + entry->d_name;
        break;
      }
    }
    ::closedir(d);
    struct stat st {};
    if (found.empty() || ::stat(found.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_dev) != cp.dev ||
        static_cast<std::uint64_t>(st.st_size) <= cp.offset || files_.contains({st.st_dev, st.st_ino}) ||
        !TakeDescriptorSlot()) {
      continue;
    }
    int fd = ::open(found.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) continue;
    auto same = MatchesPrefix(fd, cp.fingerprint);
    if (cp.fingerprint.length == 0 || !same.ok() || !*same) {
      ::close(fd);
      continue;
    }
    claimed_[i] = true;
    auto file = std::make_unique<File>();
    file->key = {st.st_dev, st.st_ino};
    file->path = found;
    file->fd = fd;
    file->size = static_cast<std::uint64_t>(st.st_size);
    file->offset = cp.offset;
    file->fingerprint = cp.fingerprint;
    file->framer = framer_.NewFileState(cp.offset == 0);
    file->source = acks_.Open(cp.offset);
    file->changed_at = Now();
    file->gone = true;
    file->gone_at = Now();
    ++open_count_;
    ++counters_.files_opened;
    log_.info("flow {}: {} was rotated to {} while ferry was stopped; draining it from offset {}",
              options_.flow, cp.path, found, cp.offset);
    files_.emplace(file->key, std::move(file));
  }
}

void FileTailer::SaveCheckpoints() {
  if (options_.checkpoint_path.empty()) return;
  // Nothing finished and no file came or went: the last write still says it all.
  std::uint64_t changes = acks_.changes() + files_.size() + counters_.files_opened + counters_.renames +
                          counters_.truncations + counters_.copies_followed;
  if (!last_saved_.empty() && changes == saved_changes_) return;
  saved_changes_ = changes;
  CheckpointSet set;
  set.flow = options_.flow;
  std::int64_t now = clock_.UnixSeconds();
  for (const auto& [key, file] : files_) {
    if (file->held || file->undecided) continue;
    set.files.push_back(FileCheckpoint{static_cast<std::uint64_t>(key.first),
                                       static_cast<std::uint64_t>(key.second), file->fingerprint, file->path,
                                       acks_.committed(file->source), 0});
  }
  // Checkpoints not matched yet (before the first scan ends) are kept as they were.
  for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
    if (!claimed_[i]) set.files.push_back(checkpoints_[i]);
  }
  std::string text = SerializeCheckpoints(set);
  if (text == last_saved_) return;
  for (auto& entry : set.files) {
    if (entry.updated == 0) entry.updated = now;
  }
  Status saved = ferry::SaveCheckpoints(options_.checkpoint_path, set);
  if (!saved) {
    ++counters_.checkpoint_errors;
    log_.error("flow {}: {}", options_.flow, saved.error().message());
    return;
  }
  ++counters_.checkpoint_writes;
  last_saved_ = std::move(text);
}

}  // namespace ferry
