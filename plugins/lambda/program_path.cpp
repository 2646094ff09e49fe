// ProgramPath: stat(2) and access(2, X_OK) on each candidate; the first that is an executable regular
// file wins. A candidate that exists but cannot run is remembered, so the error says why.
#include "plugins/lambda/program_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "agent/core/errno_text.h"

namespace ferry::plugins {
namespace {

// Empty when path can run; else why not.
std::string CannotRun(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return ErrnoText(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if (access(path.c_str(), X_OK) != 0) return "not executable (" + ErrnoText(errno) + ")";
  return "";
}

}  // namespace

Result<std::string> FindProgram(std::string_view program, std::string_view path_variable) {
  if (program.empty()) return Error(ErrorCode::kInvalidArgument, "no program to run");
  if (program.find('/') != std::string_view::npos) {
    std::string path(program);
    std::string why = CannotRun(path);
    if (!why.empty()) return Error(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, why));
    return path;
  }
  const std::string_view folders = path_variable.empty() ? std::string_view("/usr/bin:/bin") : path_variable;
  std::string first_refusal;
  std::string_view rest = folders;
  while (true) {
    const std::size_t colon = rest.find(':');
    std::string_view folder = rest.substr(0, colon);
    std::string candidate =
        folder.empty() ? fmt::format("./{}", program) : fmt::format("{}/{}", folder, program);
    std::string why = CannotRun(candidate);
    if (why.empty()) return candidate;
    if (first_refusal.empty() && !why.starts_with(ErrnoText(ENOENT)) &&
        !why.starts_with(ErrnoText(ENOTDIR))) {
      first_refusal = fmt::format("{}: {}", candidate, why);
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (!first_refusal.empty()) return Error(ErrorCode::kInvalidArgument, first_refusal);
  return Error(ErrorCode::kInvalidArgument,
               fmt::format("program '{}' not found in PATH ({})", program, folders));
}

}  // namespace ferry::plugins
