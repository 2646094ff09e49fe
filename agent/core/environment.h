// Environment: the process environment as a value, read once at the top of a command and passed down,
// so code below never reads global state and tests can give it any environment they like.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

class Environment {
 public:
  Environment() = default;
  explicit Environment(std::map<std::string, std::string, std::less<>> vars) : vars_(std::move(vars)) {}

  // Copies the process environment (`environ`).
  static Environment FromProcess();

  // The value of name, or nothing when it is unset or empty.
  std::optional<std::string> Get(std::string_view name) const;

  // Every variable, for the environment of a child process (credential_process).
  const std::map<std::string, std::string, std::less<>>& vars() const { return vars_; }

  // The host's name (gethostname(2) for FromProcess), for ${hostname} in partition keys.
  const std::string& hostname() const { return hostname_; }
  void set_hostname(std::string hostname) { hostname_ = std::move(hostname); }

 private:
  std::map<std::string, std::string, std::less<>> vars_;
  std::string hostname_ = "localhost";
};

}  // namespace ferry
