// The subcommands of the `ferry` binary. Each takes its arguments after the subcommand name and
// returns the process exit code; exceptions stop here at the latest.
#pragma once

#include <span>
#include <string_view>

namespace ferry::cli {

// Exit codes shared by all commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the work failed (e.g. could not start)
inline constexpr int kExitUsage = 2;    // bad flags or a bad config

int RunCommand(std::span<const std::string_view> args);
int SendCommand(std::span<const std::string_view> args);
int CheckCommand(std::span<const std::string_view> args);
int StatusCommand(std::span<const std::string_view> args);
int TopCommand(std::span<const std::string_view> args);
int ReloadCommand(std::span<const std::string_view> args);
int VersionCommand(std::span<const std::string_view> args);
void PrintUsage();

}  // namespace ferry::cli
