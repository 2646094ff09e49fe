// Durable folders: creating a folder path (mkdir -p) so that it survives a crash, and syncing a folder so
// that the names in it (a new file, a rename) do. Errors begin with `what_for`, the file the folder is
// for ("checkpoint file /var/lib/ferry/checkpoints/web.json"), then say what failed and the errno.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

// The folder part of path: "." for a bare name, "/" for a file in the root.
std::string DirName(const std::string& path);

// fsync of the folder. A file system that cannot sync folders (EINVAL) is not an error.
Status SyncFolder(const std::string& dir, std::string_view what_for);

// Creates dir and any missing parents with `mode`, syncing the parent of each folder it creates. Fails
// (ENOTDIR) when a part of the path is not a folder.
Status MakeFolders(const std::string& dir, mode_t mode, std::string_view what_for);

}  // namespace ferry
