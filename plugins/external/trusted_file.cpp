// TrustedFile: realpath, then lstat on the file and on each folder above it. The checks and dlopen see the
// same names: every step of the resolved path is changeable by root or us alone, so nobody else can swap a
// component between the check and the load.
#include "plugins/external/trusted_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "agent/core/errno_text.h"

namespace ferry::plugins {
namespace {

std::string Owner(const struct stat& st) {
  return fmt::format("user {}", st.st_uid);
}

// Why one step of the path may not be trusted, or "".
std::string Distrust(const struct stat& st, bool folder) {
  const uid_t me = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    return fmt::format("is owned by {}, not root or ferry's user ({})", Owner(st), me);
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0) return "";
  if (folder && st.st_uid == 0 && (st.st_mode & S_ISVTX) != 0) return "";
  return fmt::format("is writable by {} (mode {:04o})", (st.st_mode & S_IWOTH) != 0 ? "anyone" : "its group",
                     st.st_mode & 07777);
}

}  // namespace

Result<std::string> TrustedFile(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
  if (!resolved) return Error(ErrorCode::kNotFound, fmt::format("{}: {}", path, ErrnoText(errno)));
  const std::string real(resolved.get());
  const std::string named = real == path ? real : fmt::format("{} (that is {})", path, real);
  struct stat st {};
  if (::lstat(real.c_str(), &st) != 0)
    return Error(ErrorCode::kIo, fmt::format("{}: {}", named, ErrnoText(errno)));
  if (!S_ISREG(st.st_mode))
    return Error(ErrorCode::kInvalidArgument, fmt::format("{} is not a regular file", named));
  if (std::string why = Distrust(st, false); !why.empty()) {
    return Error(ErrorCode::kRefused,
                 fmt::format("{} {}; a plugin must be changeable by root or ferry's user only", named, why));
  }
  for (std::string folder = real; folder != "/";) {
    const std::size_t slash = folder.find_last_of('/');
    folder = slash == 0 ? "/" : folder.substr(0, slash);
    if (::lstat(folder.c_str(), &st) != 0) {
      return Error(ErrorCode::kIo, fmt::format("{}: folder {}: {}", named, folder, ErrnoText(errno)));
    }
    if (std::string why = Distrust(st, true); !why.empty()) {
      return Error(
          ErrorCode::kRefused,
          fmt::format("{}: its folder {} {}; a plugin and every folder above it must be changeable by "
                      "root or ferry's user only",
                      named, folder, why));
    }
  }
  return real;
}

}  // namespace ferry::plugins
