// SegmentWriter: frames entries into fragments (see the format in the header) and writes them with POSIX
// calls; pwrite at the writer's own offset, so cutting off a failed write leaves no gap or stray bytes.
#include "agent/spool/segment_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "agent/core/errno_text.h"
#include "agent/spool/crc32c.h"

namespace ferry::spool {
namespace {

Error IoError(const std::string& path, std::string_view what, int err) {
  return Error(ErrorCode::kIo, fmt::format("spool segment {}: {}: {}", path, what, ErrnoText(err)));
}

std::string DirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void AppendFragment(FragmentType type, std::string_view payload, std::string* out) {
  char type_byte = static_cast<char>(type);
  std::uint32_t crc = crc32c::Mask(crc32c::Extend(crc32c::Value(std::string_view(&type_byte, 1)), payload));
  auto length = static_cast<std::uint16_t>(payload.size());
  char header[kHeaderSize] = {
      static_cast<char>(crc & 0xff),
      static_cast<char>((crc >> 8) & 0xff),
      static_cast<char>((crc >> 16) & 0xff),
      static_cast<char>(crc >> 24),
      static_cast<char>(length & 0xff),
      static_cast<char>(length >> 8),
      type_byte,
  };
  out->append(header, kHeaderSize);
  out->append(payload);
}

}  // namespace

std::uint64_t FrameEntry(std::uint64_t offset, std::string_view entry, std::string* out) {
  bool first = true;
  do {
    std::size_t block_left = kBlockSize - offset % kBlockSize;
    if (block_left < kHeaderSize) {
      out->append(block_left, '\0');
      offset += block_left;
      block_left = kBlockSize;
    }
    // With exactly kHeaderSize bytes left this is an empty FIRST fragment, as in LevelDB.
    std::size_t n = std::min(block_left - kHeaderSize, entry.size());
    bool last = n == entry.size();
    FragmentType type = first ? (last ? FragmentType::kFull : FragmentType::kFirst)
                              : (last ? FragmentType::kLast : FragmentType::kMiddle);
    AppendFragment(type, entry.substr(0, n), out);
    entry.remove_prefix(n);
    offset += kHeaderSize + n;
    first = false;
  } while (!entry.empty());
  return offset;
}

// FrameEntry's walk in closed form, so that checking even an absurd size costs nothing.
std::uint64_t FramedSize(std::uint64_t offset, std::size_t entry_size) {
  constexpr std::uint64_t kRoom = kBlockSize - kHeaderSize;  // payload bytes a whole block carries
  std::uint64_t total = 0;
  std::uint64_t block_left = kBlockSize - offset % kBlockSize;
  if (block_left < kHeaderSize) {
    total += block_left;  // the trailer
    block_left = kBlockSize;
  }
  if (entry_size <= block_left - kHeaderSize) return total + kHeaderSize + entry_size;
  total += block_left;  // FIRST fills the block
  std::uint64_t rest = entry_size - (block_left - kHeaderSize);
  total += rest / kRoom * kBlockSize;  // whole MIDDLE (or LAST) blocks
  if (rest % kRoom != 0) total += kHeaderSize + rest % kRoom;
  return total;
}

std::uint64_t MaxFramedSize(std::size_t entry_size) {
  constexpr std::uint64_t kRoom = kBlockSize - kHeaderSize;
  // A trailer, then one header per fragment: a first fragment that may be empty, and one per kRoom bytes
  // of payload, the last of them perhaps partial.
  return (kHeaderSize - 1) + entry_size + kHeaderSize * (entry_size / kRoom + 2);
}

Result<SegmentWriter> SegmentWriter::Create(std::string path, SyncCall sync) {
  // 0640: a segment holds log lines, which are often not world-readable at their source either.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) return IoError(path, "creating", errno);
  return SegmentWriter(std::move(path), fd, std::move(sync));
}

SegmentWriter::SegmentWriter(SegmentWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      sync_(std::move(other.sync_)),
      offset_(other.offset_),
      folder_synced_(other.folder_synced_),
      scratch_(std::move(other.scratch_)),
      failed_(std::move(other.failed_)) {}

SegmentWriter& SegmentWriter::operator=(SegmentWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    sync_ = std::move(other.sync_);
    offset_ = other.offset_;
    folder_synced_ = other.folder_synced_;
    scratch_ = std::move(other.scratch_);
    failed_ = std::move(other.failed_);
  }
  return *this;
}

SegmentWriter::~SegmentWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Error SegmentWriter::Fail(Error error) {
  failed_ = error;
  return error;
}

Status SegmentWriter::Append(std::string_view entry) {
  if (failed_) return *failed_;
  if (!Fits(entry.size())) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("spool segment {}: an entry of {} bytes would grow it past {} bytes", path_,
                             entry.size(), kMaxSegmentBytes));
  }
  scratch_.clear();
  FrameEntry(offset_, entry, &scratch_);
  return AppendFramed(scratch_);
}

Status SegmentWriter::AppendFramed(std::string_view framed) {
  if (failed_) return *failed_;
  if (fd_ < 0) return IoError(path_, "appending", EBADF);
  if (offset_ + framed.size() > kMaxSegmentBytes) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("spool segment {}: {} more bytes would grow it past {} bytes", path_,
                             framed.size(), kMaxSegmentBytes));
  }
  std::string_view rest = framed;
  std::uint64_t at = offset_;
  while (!rest.empty()) {
    ssize_t n = ::pwrite(fd_, rest.data(), rest.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // n == 0 cannot happen for a regular file with bytes to write; treat it like a full disk.
      int err = n < 0 ? errno : ENOSPC;
      Error error = IoError(path_, fmt::format("writing {} bytes at offset {}", framed.size(), offset_), err);
      // Cut off what part of it did land, so the segment still ends on a whole entry.
      if (at != offset_ && ::ftruncate(fd_, static_cast<off_t>(offset_)) != 0) return Fail(error);
      return error;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
    at += static_cast<std::uint64_t>(n);
  }
  offset_ = at;
  return Status::Ok();
}

Status SegmentWriter::Sync() {
  if (failed_) return *failed_;
  if (fd_ < 0) return IoError(path_, "fdatasync", EBADF);
  if ((sync_ ? sync_(fd_) : ::fdatasync(fd_)) != 0) return Fail(IoError(path_, "fdatasync", errno));
  if (!folder_synced_) {
    std::string dir = DirName(path_);
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return IoError(path_, fmt::format("opening folder {} to sync it", dir), errno);
    int rc = ::fsync(dir_fd);
    int err = errno;
    ::close(dir_fd);
    // EINVAL: this file system cannot sync folders; there is nothing more we can do.
    if (rc != 0 && err != EINVAL) return IoError(path_, fmt::format("fsync of folder {}", dir), err);
    folder_synced_ = true;
  }
  return Status::Ok();
}

Status SegmentWriter::Close() {
  if (fd_ < 0) return Status::Ok();
  int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0) return IoError(path_, "closing", errno);
  return Status::Ok();
}

}  // namespace ferry::spool
