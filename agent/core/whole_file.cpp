// ReadWholeFile: open, check, read to the end or one byte past the bound.
#include "agent/core/whole_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include "agent/core/errno_text.h"
#include "agent/core/file_offset.h"

namespace ferry {
namespace {

Error FileError(std::string_view what, const std::string& path, std::string_view doing, int err) {
  return Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
               fmt::format("{} {}: {}: {}", what, path, doing, ErrnoText(err)));
}

}  // namespace

Result<WholeFile> ReadWholeFile(const std::string& path, std::size_t max_bytes, std::string_view what,
                                std::string buffer) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError(what, path, "opening", errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return FileError(what, path, "fstat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::kIo, fmt::format("{} {}: not a regular file", what, path));
  }
  WholeFile file;
  file.bytes = std::move(buffer);
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    file.too_large = true;
    return file;
  }
  // One byte past the size: a file that grew since the fstat is read on, up to one byte past the bound.
  std::string& bytes = file.bytes;
  bytes.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t have = 0;
  for (;;) {
    if (have == bytes.size()) {
      if (bytes.size() > max_bytes) break;
      bytes.resize(std::min<std::size_t>(bytes.size() * 2, max_bytes + 1));
    }
    ssize_t n = ::read(fd, bytes.data() + have, bytes.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return FileError(what, path, "reading", err);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (have > max_bytes) {
    file.too_large = true;
    bytes.clear();
    return file;
  }
  bytes.resize(have);
  return file;
}

}  // namespace ferry
