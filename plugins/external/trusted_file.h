// TrustedFile: whether a file may be loaded into ferry as code: only root and ferry's own user may change
// it or any folder above it. A plugin anyone else could replace would run their code as ferry's user (often
// root), so ferry refuses it rather than warn.
#pragma once

#include <string>

#include "agent/core/result.h"

namespace ferry::plugins {

// The real path of path (symbolic links and .. resolved) if it names a regular file that is owned by root
// or the effective user, not writable by group or others, in folders of which the same holds up to /
// (a folder writable by others is accepted when root owns it and its sticky bit is set, as /tmp is: there
// nobody but a file's owner may rename or remove it, and the path's next step is owned by root or us). An
// error says which file or folder failed, and why.
Result<std::string> TrustedFile(const std::string& path);

}  // namespace ferry::plugins
