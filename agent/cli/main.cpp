// ferry's entry point: process-wide setup (curl, SIGPIPE), then dispatch to a subcommand.
// This is the top of every command, so it is where exceptions are finally caught.
#include <curl/curl.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "ferry/version.h"

namespace ferry::cli {

void PrintUsage() {
  fmt::print(
      "ferry {} - ships log files to Amazon Kinesis Data Streams and Firehose\n"
      "\n"
      "usage: ferry <command> [options]\n"
      "\n"
      "commands:\n"
      "  run [-c FILE] [--state-dir DIR]\n"
      "                     run the agent in the foreground until SIGINT or SIGTERM; SIGHUP reloads FILE\n"
      "                     (FILE defaults to /etc/ferry/ferry.yaml; a Kinesis Agent agent.json works too)\n"
      "  send (--stream S | --delivery-stream D) [options] [FILE... | -]\n"
      "                     send files or standard input once, then exit (ferry send --help)\n"
      "  check [-c FILE] [--state-dir DIR]\n"
      "                     validate a config and print its effective settings, or every error\n"
      "  check --keys       list every config key with its type, default and meaning\n"
      "  check --convert FILE\n"
      "                     print the ferry.yaml equivalent to a Kinesis Agent agent.json\n"
      "  status [-c FILE | --state-dir DIR] [--json]\n"
      "                     ask the ferry running with DIR (default /var/lib/ferry, or FILE's state_dir)\n"
      "                     for its status\n"
      "  top [-c FILE | --state-dir DIR] [--interval 1s]\n"
      "                     a live view of that ferry in the terminal: rates, lag, spool, retries and\n"
      "                     errors per flow, the files most behind; keys: q quit, s or 1-5 or left/right\n"
      "                     sort column, r reverse, ? keys\n"
      "  reload [-c FILE | --state-dir DIR]\n"
      "                     have the running ferry re-read its config and apply what changed; prints\n"
      "                     the outcome (exit 0: applied, 1: refused or no ferry running)\n"
      "  version            print the version\n"
      "  help               print this help (also -h, --help)\n",
      kVersion);
}

int VersionCommand(std::span<const std::string_view> args) {
  if (!args.empty()) {
    fmt::print(stderr, "ferry version: takes no arguments\n");
    return kExitUsage;
  }
  fmt::print("ferry {}\n", kVersion);
  return kExitOk;
}

}  // namespace ferry::cli

int main(int argc, char** argv) {
  using namespace ferry::cli;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintUsage();
    return kExitUsage;
  }
  std::string_view command = args[0];
  std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
  // A peer that closes a socket must not kill the process; curl also asks for this.
  std::signal(SIGPIPE, SIG_IGN);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fmt::print(stderr, "ferry: cannot initialise libcurl\n");
    return kExitFailure;
  }
  int code = kExitUsage;
  try {
    if (command == "run") {
      code = RunCommand(rest);
    } else if (command == "send") {
      code = SendCommand(rest);
    } else if (command == "check") {
      code = CheckCommand(rest);
    } else if (command == "status") {
      code = StatusCommand(rest);
    } else if (command == "top") {
      code = TopCommand(rest);
    } else if (command == "reload") {
      code = ReloadCommand(rest);
    } else if (command == "version" || command == "--version") {
      code = VersionCommand(rest);
    } else if (command == "help" || command == "-h" || command == "--help") {
      PrintUsage();
      code = kExitOk;
    } else {
      fmt::print(stderr, "ferry: unknown command '{}'\n\n", command);
      PrintUsage();
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "ferry: fatal: {}\n", e.what());
    code = kExitFailure;
  }
  curl_global_cleanup();
  return code;
}
