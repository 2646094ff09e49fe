// ProgramPath: where the program of a command is, found as execvp(3) would find it, so that `ferry check`
// and start-up refuse a command that could never run, naming it. A program with a '/' is that path; one
// without is looked up in each folder of PATH in turn (an empty entry is the current folder; no PATH: the
// POSIX default /usr/bin:/bin). It must be a regular file this process may execute.
#pragma once

#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry::plugins {

// The path of program, or an error: "program 'x' not found in PATH (/usr/bin:/bin)", "/opt/x: not
// executable (Permission denied)", "/opt/x: is a directory".
Result<std::string> FindProgram(std::string_view program, std::string_view path_variable);

}  // namespace ferry::plugins
