// FileTailer's files that leave: forgetting a file while what was read from it is still unacknowledged
// keeps its checkpoint entry (Retained) until its watermark catches up; a closed file that left the globs
// is looked for in its folder by inode, at start (RecoverRotatedAway, from the checkpoints) and while
// running (FollowLost), and drained there if it holds more than was read.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "agent/source/file_tailer.h"
#include "agent/source/tailed_file.h"

namespace ferry {
namespace {

// The folder part of path, with its trailing '/' ("" for a bare name).
std::string FolderOf(const std::string& path) {
  return path.substr(0, path.rfind('/') + 1);
}

// Where the inodes asked for are in `folder` (ending in '/'), by one readdir: inode -> path.
std::map<ino_t, std::string> FindInodes(const std::string& folder, const std::set<ino_t>& inodes) {
  std::map<ino_t, std::string> found;
  DIR* d = ::opendir(folder.empty() ? "/" : folder.c_str());
  if (d == nullptr) return found;
  while (dirent* entry = ::readdir(d)) {
    if (inodes.contains(entry->d_ino)) found.try_emplace(entry->d_ino, folder + entry->d_name);
  }
  ::closedir(d);
  return found;
}

// Folder -> inodes wanted there -> where they are now.
using Lookup = std::map<std::string, std::map<ino_t, std::string>>;

Lookup FindAll(const std::map<std::string, std::set<ino_t>>& wanted) {
  Lookup found;
  for (const auto& [folder, inodes] : wanted) found.emplace(folder, FindInodes(folder, inodes));
  return found;
}

const std::string* Where(const Lookup& found, const std::string& old_path, ino_t ino) {
  auto folder = found.find(FolderOf(old_path));
  if (folder == found.end()) return nullptr;
  auto it = folder->second.find(ino);
  return it == folder->second.end() ? nullptr : &it->second;
}

// Opens path if it is still the regular file (dev, ino) with the fingerprint `fp` and more than `offset`
// bytes; its size goes to *size. -1 otherwise.
int OpenIfSame(const std::string& path, std::uint64_t dev, std::uint64_t ino, const Fingerprint& fp,
               std::uint64_t offset, std::uint64_t* size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  struct stat st {};
  auto same = MatchesPrefix(fd, fp);
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_dev) != dev ||
      static_cast<std::uint64_t>(st.st_ino) != ino || static_cast<std::uint64_t>(st.st_size) <= offset ||
      !(fp.length == 0 || (same.ok() && *same))) {
    ::close(fd);
    return -1;
  }
  *size = static_cast<std::uint64_t>(st.st_size);
  return fd;
}

}  // namespace

std::size_t FileTailer::retained_files() const {
  return retained_.size();
}

void FileTailer::Forget(FileKey key, bool content_gone) {
  auto it = files_.find(key);
  if (it == files_.end()) return;
  File& file = *it->second;
  Flush(file);  // a file that is gone will never finish its last line
  if (file.fd >= 0) {
    struct stat st {};
    if (::fstat(file.fd, &st) == 0 && st.st_nlink == 0) content_gone = true;  // deleted
  }
  CloseDescriptor(file);
  if (!file.held && !file.undecided) {
    const std::uint64_t committed = acks_.committed(file.source);
    if (!content_gone && committed < file.offset) {
      // A crash now must still find it (by inode, in its folder) and resume it at its watermark.
      log_.info("flow {}: {} stays in the checkpoint until its last {} bytes read are acknowledged",
                options_.flow, file.path, file.offset - committed);
      retained_.push_back(Retained{key, file.fingerprint, file.path, file.source, file.offset});
    } else {
      acks_.Close(file.source);
    }
  }
  auto path = by_path_.find(file.path);
  if (path != by_path_.end() && path->second == key) by_path_.erase(path);
  files_.erase(it);
  Changed();
}

bool FileTailer::Revive(File& file) {
  auto it =
      std::find_if(retained_.begin(), retained_.end(), [&](const Retained& r) { return r.key == file.key; });
  if (it == retained_.end()) return false;
  Retained old = std::move(*it);
  retained_.erase(it);
  Changed();
  auto same = MatchesPrefix(file.fd, old.fingerprint);
  if (file.size < old.read_to || !(old.fingerprint.length == 0 || (same.ok() && *same))) {
    acks_.Close(old.source);  // its inode holds other content now: the old file was deleted
    return false;
  }
  log_.info("flow {}: {} (known as {}) is back in the globs; reading on from offset {}", options_.flow,
            file.path, old.path, old.read_to);
  file.undecided = false;
  file.offset = old.read_to;
  file.framer = framer_.NewFileState(old.read_to == 0);
  file.source = old.source;
  return true;
}

void FileTailer::DropAcknowledged() {
  std::erase_if(retained_, [&](const Retained& r) {
    if (acks_.committed(r.source) < r.read_to) return false;
    acks_.Close(r.source);
    Changed();
    return true;
  });
}

void FileTailer::FollowLost(const std::vector<FileKey>& lost) {
  // A closed file that grew just before it was renamed out of the globs still has lines to read under its
  // new name; anything else is forgotten (and kept in the checkpoint until acknowledged).
  std::map<std::string, std::set<ino_t>> wanted;
  for (const auto& key : lost) wanted[FolderOf(files_.at(key)->path)].insert(key.second);
  const Lookup found = FindAll(wanted);
  for (const auto& key : lost) {
    File& file = *files_.at(key);
    const std::string* now_at = Where(found, file.path, key.second);
    std::uint64_t size = 0;
    int fd = -1;
    if (now_at != nullptr && !file.held && !file.undecided && TakeDescriptorSlot()) {
      fd = OpenIfSame(*now_at, static_cast<std::uint64_t>(key.first), static_cast<std::uint64_t>(key.second),
                      file.fingerprint, file.offset, &size);
    }
    if (fd < 0) {
      Forget(key);
      continue;
    }
    log_.info("flow {}: {} was renamed to {} while closed, out of the globs; draining it from offset {}",
              options_.flow, file.path, *now_at, file.offset);
    auto path = by_path_.find(file.path);
    if (path != by_path_.end() && path->second == key) by_path_.erase(path);
    file.path = *now_at;
    file.fd = fd;
    file.size = size;
    file.prefix = ReadPrefix(fd, file.fingerprint.length);
    file.changed_at = Now();
    file.gone = true;
    file.gone_at = Now();
    ++open_count_;
    ++counters_.renames;
    CountRotation(file);
    Changed();
    SchedulePass();
  }
}

void FileTailer::RecoverRotatedAway() {
  // A file rotated out of the globs while ferry was stopped still holds its unread tail. Rotation keeps
  // the inode and (nearly always) the folder, so look there for the checkpoint's inode and drain it. One
  // readdir per folder, however many checkpoints are looked for.
  std::map<std::string, std::set<ino_t>> wanted;
  for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
    if (!claimed_[i]) wanted[FolderOf(checkpoints_[i].path)].insert(static_cast<ino_t>(checkpoints_[i].ino));
  }
  if (wanted.empty()) return;
  const Lookup found = FindAll(wanted);
  for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
    const FileCheckpoint& cp = checkpoints_[i];
    if (claimed_[i] || cp.fingerprint.length == 0) continue;
    const std::string* now_at = Where(found, cp.path, static_cast<ino_t>(cp.ino));
    FileKey key{static_cast<dev_t>(cp.dev), static_cast<ino_t>(cp.ino)};
    if (now_at == nullptr || files_.contains(key) || !TakeDescriptorSlot()) continue;
    std::uint64_t size = 0;
    int fd = OpenIfSame(*now_at, cp.dev, cp.ino, cp.fingerprint, cp.offset, &size);
    if (fd < 0) continue;
    claimed_[i] = true;
    auto file = std::make_unique<File>();
    file->key = key;
    file->path = *now_at;
    file->fd = fd;
    file->size = size;
    file->offset = cp.offset;
    file->fingerprint = cp.fingerprint;
    file->framer = framer_.NewFileState(cp.offset == 0);
    file->source = OpenSource(cp.offset);
    file->changed_at = Now();
    file->gone = true;
    file->gone_at = Now();
    ++open_count_;
    ++counters_.files_opened;
    log_.info("flow {}: {} was rotated to {} while ferry was stopped; draining it from offset {}",
              options_.flow, cp.path, *now_at, cp.offset);
    files_.emplace(key, std::move(file));
    Changed();
  }
}

}  // namespace ferry
