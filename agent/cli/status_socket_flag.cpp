// ParseStatusSocketFlags: the flags first, then the config only if one was named and --state-dir did not
// make it unnecessary.
#include "agent/cli/status_socket_flag.h"

#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "agent/config/config.h"
#include "agent/ops/status_server.h"

namespace ferry::cli {

Result<StatusSocketTarget> ParseStatusSocketFlags(std::span<const std::string_view> args) {
  StatusSocketTarget out;
  std::optional<std::string> config_path;
  std::optional<std::string> state_dir;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-c" || arg == "--config" || arg == "--state-dir") {
      if (i + 1 == args.size()) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("{} needs a {}", arg, arg == "--state-dir" ? "directory" : "file name"));
      }
      (arg == "--state-dir" ? state_dir : config_path) = std::string(args[++i]);
    } else if (arg.starts_with("--config=")) {
      config_path = std::string(arg.substr(9));
    } else if (arg.starts_with("--state-dir=")) {
      state_dir = std::string(arg.substr(12));
    } else {
      out.rest.push_back(arg);
    }
  }
  if (state_dir && state_dir->empty())
    return Error(ErrorCode::kInvalidArgument, "--state-dir needs a directory");
  if (config_path && config_path->empty()) return Error(ErrorCode::kInvalidArgument, "-c needs a file name");
  if (state_dir) {
    out.state_dir = *state_dir;
  } else if (config_path) {
    auto config = config::LoadConfigFile(*config_path);
    if (!config) return Error(ErrorCode::kInvalidArgument, config.error().message());
    out.state_dir = config->state_dir;
  } else {
    out.state_dir = config::Config{}.state_dir;
  }
  out.socket_path = (std::filesystem::path(out.state_dir) / kStatusSocketName).string();
  return out;
}

}  // namespace ferry::cli
