// Durable folders: mkdir -p with a sync of each new folder's parent, and fsync of a folder.
#include "agent/core/durable_folder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "agent/core/errno_text.h"

namespace ferry {
namespace {

Error FolderError(std::string_view what_for, std::string_view what, int err) {
  return Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
               fmt::format("{}: {}: {}", what_for, what, ErrnoText(err)));
}

}  // namespace

std::string DirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status SyncFolder(const std::string& dir, std::string_view what_for) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FolderError(what_for, fmt::format("opening folder {} to sync it", dir), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // EINVAL: this file system cannot sync folders; there is nothing more we can do.
  if (rc != 0 && err != EINVAL) return FolderError(what_for, fmt::format("fsync of folder {}", dir), err);
  return Status::Ok();
}

Status MakeFolders(const std::string& dir, mode_t mode, std::string_view what_for) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return FolderError(what_for, fmt::format("{} is not a folder", dir), ENOTDIR);
  }
  std::size_t at = 0;
  while (at != std::string::npos) {
    at = dir.find('/', at + 1);
    std::string prefix = dir.substr(0, at);
    if (prefix.empty() || prefix.back() == '/') continue;  // "//" or the root
    if (::mkdir(prefix.c_str(), mode) == 0) {
      auto synced = SyncFolder(DirName(prefix), what_for);
      if (!synced.ok()) return synced;
      continue;
    }
    int err = errno;
    if (err != EEXIST) return FolderError(what_for, fmt::format("creating folder {}", prefix), err);
    if (::stat(prefix.c_str(), &st) != 0)
      return FolderError(what_for, fmt::format("stat of {}", prefix), errno);
    if (!S_ISDIR(st.st_mode))
      return FolderError(what_for, fmt::format("{} is not a folder", prefix), ENOTDIR);
  }
  return Status::Ok();
}

}  // namespace ferry
