// ScratchDir: a fresh temporary folder for one test, removed at its end, with anything mounted on it
// unmounted first. MountTmpfs gives a small file system to fill (ENOSPC), which needs root; elsewhere it
// warns and returns false so the test can skip.
#pragma once

#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::testing {

class ScratchDir {
 public:
  explicit ScratchDir(std::string_view prefix = "ferry-test") {
    std::string templ = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~ScratchDir() {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    std::error_code ec;
    // A test may have taken the owner's rights away to provoke errors.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                                 ec);
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

  bool MountTmpfs(const std::string& name, const char* options, unsigned long flags = 0) {
    std::string dir = *this / name;
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", flags, options) != 0) {
      WARN("cannot mount a tmpfs (" << std::strerror(errno) << "); skipping this test");
      return false;
    }
    mounts_.push_back(dir);
    return true;
  }

 private:
  std::string path_;
  std::vector<std::string> mounts_;
};

}  // namespace ferry::testing
