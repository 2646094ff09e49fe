// FileIdentity: (device, inode) and the file's first line, at most 64 bytes. The first line stays as it is
// until the file is truncated, so new content in the same inode (copytruncate, where offsets repeat) gets
// a new identity. Not the checkpoint fingerprint: that grows with a young file.
#include "agent/source/file_identity.h"

#include <algorithm>
#include <cstring>

#include "agent/checkpoint/fingerprint.h"

namespace ferry {

std::uint64_t FileIdentity(dev_t device, ino_t inode, std::string_view start) {
  const std::size_t newline = start.find('\n');
  start = start.substr(
      0, std::min(newline == std::string_view::npos ? start.size() : newline + 1, kFileIdentityStartBytes));
  char key[sizeof(dev_t) + sizeof(ino_t) + kFileIdentityStartBytes];
  std::memcpy(key, &device, sizeof(dev_t));
  std::memcpy(key + sizeof(dev_t), &inode, sizeof(ino_t));
  std::memcpy(key + sizeof(dev_t) + sizeof(ino_t), start.data(), start.size());
  return Sha256Prefix64({key, sizeof(dev_t) + sizeof(ino_t) + start.size()});
}

}  // namespace ferry
