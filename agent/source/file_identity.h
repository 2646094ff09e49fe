// FileIdentity: a 64-bit name for one file's content, the same each time the file is read (after a crash,
// or by `ferry send` and the daemon alike), so that (identity, offset) names a record for good (the `add`
// plugin's record_id). See file_identity.cpp for what goes in.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

namespace ferry {

// The longest start of a file that goes into its identity.
inline constexpr std::size_t kFileIdentityStartBytes = 64;

// start: the file's first bytes, as many as were read (at most kFileIdentityStartBytes are used).
std::uint64_t FileIdentity(dev_t device, ino_t inode, std::string_view start);

}  // namespace ferry
