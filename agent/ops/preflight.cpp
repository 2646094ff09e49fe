// Preflight: the checks in the order `ferry run` meets them (HTTP options, profile files, endpoints,
// state_dir, flows), each problem located in the config where it came from it.
#include "agent/ops/preflight.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/sinks/null_sink.h>

#include "agent/aws/credential_chain.h"
#include "agent/aws/endpoint.h"
#include "agent/aws/http_options.h"
#include "agent/aws/profile_provider.h"
#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/errno_text.h"
#include "agent/ops/status_server.h"
#include "agent/pipeline/flow_builder.h"
#include "plugins/chain_warnings.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

// A message that begins with a key given in the file ("aws.ca_file /x: ...", "aws.proxy: ...") begins with
// its location too; others (environment variables, files of their own) are left as they are.
std::string Located(const config::Config& config, const std::string& message) {
  std::string_view best;
  for (const auto& [key, where] : config.locations) {
    if (key.size() > best.size() && message.size() > key.size() && message.starts_with(key) &&
        (message[key.size()] == ':' || message[key.size()] == ' ')) {
      best = key;
    }
  }
  if (best.empty()) return message;
  return config::LocatedKey(config, best) + message.substr(best.size());
}

// The lines of a multi-line error.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t end = std::min(text.find('\n', from), text.size());
    if (end > from) out.push_back(text.substr(from, end - from));
    from = end + 1;
  }
  return out;
}

// Each line of a multi-line error, located.
void AddLines(const config::Config& config, const std::string& text, std::vector<std::string>& out) {
  for (const std::string& line : Lines(text)) out.push_back(Located(config, line));
}

// 0 when this process may open path with mode, judged as open(2) would (effective ids and capabilities);
// else the errno saying why not.
int AccessError(const fs::path& path, int mode) {
  return ::faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS) == 0 ? 0 : errno;
}

// "" when ferry may use folder (a folder it may write in) or create it (its nearest existing parent is a
// folder it may write in); otherwise why not.
std::string FolderProblem(const fs::path& folder) {
  struct stat st {};
  if (::stat(folder.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return "is not a folder";
    if (const int err = AccessError(folder, W_OK | X_OK); err != 0) {
      return fmt::format("ferry may not write in it: {}", ErrnoText(err));
    }
    return {};
  }
  if (const int err = errno; err != ENOENT && err != ENOTDIR) {
    return fmt::format("cannot be used: {}", ErrnoText(err));
  }
  for (fs::path parent = folder.parent_path();; parent = parent.parent_path()) {
    if (parent.empty()) parent = ".";
    if (::stat(parent.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return fmt::format("cannot be created: {} is not a folder", parent.string());
      if (const int err = AccessError(parent, W_OK | X_OK); err != 0) {
        return fmt::format("cannot be created: ferry may not write in {}: {}", parent.string(),
                           ErrnoText(err));
      }
      return {};
    }
    const int err = errno;
    if (err != ENOENT && err != ENOTDIR) {
      return fmt::format("cannot be created: {}: {}", parent.string(), ErrnoText(err));
    }
    if (parent == "." || parent == parent.parent_path()) return "cannot be created: no parent folder exists";
  }
}

// What StateLock and StatusServer would refuse in an existing state_dir (a lock ferry may not open, a
// file that is not a socket where the socket goes), and a spool folder per flow that Spool::Open could not
// create. A lock held or a socket answering is another ferry running, which is not the config's fault.
void CheckStateDir(const config::Config& config, std::vector<std::string>& errors) {
  const std::string key = config::LocatedKey(config, "state_dir");
  const fs::path state(config.state_dir);
  if (std::string problem = FolderProblem(state); !problem.empty()) {
    errors.push_back(fmt::format("{} {}: {}", key, config.state_dir, problem));
    return;
  }
  const std::string socket = (state / kStatusSocketName).string();
  if (Status fits = CheckStatusSocketPath(socket); !fits) {
    errors.push_back(fmt::format("{}: {}", key, fits.error().message()));
  }
  struct stat st {};
  if (::lstat(socket.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    errors.push_back(
        fmt::format("{}: {}: a file that is not a socket is in the way of the status socket", key, socket));
  }
  const fs::path lock = state / "ferry.lock";
  if (::stat(lock.c_str(), &st) == 0) {
    if (const int err = AccessError(lock, R_OK | W_OK); err != 0) {
      errors.push_back(fmt::format("{}: {}: ferry may not open it: {}", key, lock.string(), ErrnoText(err)));
    }
  }
  for (const auto& flow : config.flows) {
    const fs::path spool = state / "spool" / EscapeFlowName(flow.name);
    if (std::string problem = FolderProblem(spool); !problem.empty()) {
      errors.push_back(
          fmt::format("{}: spool folder {} of flow '{}': {}", key, spool.string(), flow.name, problem));
    }
  }
}

struct KnownRegion {
  std::string name;
  std::string source;  // the key or variable it came from, for errors
};

// The region as run finds it before it would ask the EC2 metadata service; nullopt when only that knows.
std::optional<KnownRegion> RegionWithoutMetadata(const config::AwsOptions& aws, const Environment& env,
                                                 const aws::ProfileFiles* files) {
  if (!aws.region.empty()) return KnownRegion{aws.region, "aws.region"};
  for (const char* variable : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto value = env.Get(variable)) return KnownRegion{*value, variable};
  }
  if (files == nullptr) return std::nullopt;
  const std::string profile = aws::ChosenProfile(aws, env).first;
  if (auto settings = files->Profile(profile)) {
    if (auto it = settings->values.find("region"); it != settings->values.end() && !it->second.empty()) {
      return KnownRegion{it->second, fmt::format("region of profile {}", profile)};
    }
  }
  return std::nullopt;
}

void CheckEndpoints(const config::Config& config, const Environment& env, const aws::ProfileFiles* files,
                    std::vector<std::string>& errors) {
  const config::AwsOptions& aws = config.aws;
  bool kinesis = false, firehose = false;
  for (const auto& flow : config.flows) (flow.kinesis ? kinesis : firehose) = true;
  const auto region = RegionWithoutMetadata(aws, env, files);
  const bool fips = aws::UseFips(aws, env);
  std::set<std::string> reported;  // a bad region or use_fips is said once, not once per service
  struct Service {
    std::string_view name;
    const std::string& configured;
    bool used;
  };
  for (const Service& service :
       {Service{"kinesis", aws.kinesis_endpoint, kinesis},
        Service{"firehose", aws.firehose_endpoint, firehose}, Service{"sts", aws.sts_endpoint, true}}) {
    if (!service.used) continue;
    const bool custom = !aws::CustomEndpoint(service.name, service.configured, env).url.empty();
    // A custom URL is checked whatever the region: only its signing scope depends on the region.
    if (!custom && !region) continue;
    auto resolved = aws::ResolveServiceEndpoint(service.name, service.configured,
                                                region ? region->name : "us-east-1", env, fips);
    if (resolved) continue;
    if (custom) {
      errors.push_back(Located(config, resolved.error().message()));
      continue;
    }
    const bool fips_in_china = fips && region->name.starts_with("cn-");
    const std::string source =
        fips_in_china ? (aws.use_fips ? "aws.use_fips" : "AWS_USE_FIPS_ENDPOINT") : region->source;
    if (reported.insert(source).second) {
      errors.push_back(Located(config, fmt::format("{}: {}", source, resolved.error().message())));
    }
  }
}

// The config file's own secrets, and whether every user may read them.
void WarnAboutReadableSecrets(const config::Config& config, std::vector<std::string>& warnings) {
  std::vector<std::string_view> secrets;
  if (!config.aws.secret_access_key.empty()) secrets.push_back("aws.secret_access_key");
  if (!config.aws.session_token.empty()) secrets.push_back("aws.session_token");
  {
    // "scheme://user:password@host": a colon in the user part before the last '@' of the authority.
    std::string_view proxy = config.aws.proxy;
    if (const auto scheme = proxy.find("://"); scheme != std::string_view::npos)
      proxy.remove_prefix(scheme + 3);
    proxy = proxy.substr(0, proxy.find('/'));
    if (const auto at = proxy.rfind('@'); at != std::string_view::npos) {
      const auto colon = proxy.substr(0, at).find(':');
      if (colon != std::string_view::npos && colon + 1 < at) secrets.push_back("a password in aws.proxy");
    }
  }
  if (secrets.empty()) return;
  struct stat st {};
  if (::stat(config.file.c_str(), &st) != 0 || (st.st_mode & S_IROTH) == 0) return;
  std::string which;
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    which += fmt::format("{}{}", i == 0 ? "" : (i + 1 == secrets.size() ? " and " : ", "), secrets[i]);
  }
  warnings.push_back(fmt::format(
      "{} holds {} and every user may read it (mode {:04o}); chmod o-r {} (0640 with the group ferry runs "
      "as, or 0600), or move the secret to the credentials file or the environment",
      config.file, which, st.st_mode & 07777, config.file));
}

}  // namespace

PreflightReport Preflight(const config::Config& config, const Environment& env) {
  PreflightReport report;
  report.warnings = config.warnings;  // the loader's: keys of an agent.json that ferry treats differently
  WarnAboutReadableSecrets(config, report.warnings);

  if (auto options = aws::AwsHttpOptions(config.aws, env); !options) {
    AddLines(config, options.error().message(), report.errors);
  }
  auto files = aws::LoadProfileFiles(env);
  if (!files) AddLines(config, files.error().message(), report.errors);
  CheckEndpoints(config, env, files ? &*files : nullptr, report.errors);
  CheckStateDir(config, report.errors);

  // Plugins are made as `run` makes them (a key file read, say) and thrown away; their errors are located
  // at the plugin's entry.
  SystemClock clock;
  auto quiet = std::make_shared<spdlog::logger>("preflight", std::make_shared<spdlog::sinks::null_sink_mt>());
  for (const auto& flow : config.flows) {
    auto plugins = MakePluginStages(flow, PluginContext{nullptr, clock, env.hostname(), *quiet, &env,
                                                        config.aws.region, ConfiguredAccount(config)});
    for (auto& line : plugins::ChainWarnings(flow.plugins)) report.warnings.push_back(std::move(line));
    if (!plugins) {
      for (auto& line : Lines(plugins.error().message())) report.errors.push_back(std::move(line));
    }
  }
  for (std::size_t i = 0; i < config.flows.size(); ++i) {
    Status stages = ValidateFileFlow(config.flows[i], env.hostname());
    if (stages) continue;
    // Located at the flow's name: the message names the flow and the option.
    const auto at = config.locations.find(fmt::format("flows[{}].name", i));
    for (auto& line : Lines(stages.error().message())) {
      report.errors.push_back(at == config.locations.end() ? std::move(line)
                                                           : fmt::format("{}: {}", at->second, line));
    }
  }
  return report;
}

}  // namespace ferry
