// StatusRequest: the request line's grammar, kept apart from the socket so it is tested on its own.
#include "agent/ops/status_request.h"

#include <fmt/format.h>

#include "agent/core/log_escape.h"

namespace ferry {
namespace {

StatusRequest Invalid(std::string error) {
  return StatusRequest{StatusRequestKind::kInvalid, std::move(error)};
}

}  // namespace

StatusRequest ParseStatusRequest(std::string_view received, bool at_eof) {
  const std::size_t newline = received.find('\n');
  if (newline == std::string_view::npos) {
    if (received.size() >= kMaxStatusRequestBytes) {
      return Invalid(fmt::format("request line longer than {} bytes", kMaxStatusRequestBytes - 1));
    }
    if (!at_eof) return StatusRequest{};
  } else {
    if (newline + 1 > kMaxStatusRequestBytes) {
      return Invalid(fmt::format("request line longer than {} bytes", kMaxStatusRequestBytes - 1));
    }
    received = received.substr(0, newline);
  }
  if (received.ends_with('\r')) received.remove_suffix(1);
  if (received.empty() || received == "status") return StatusRequest{StatusRequestKind::kStatus, {}};
  if (received == "reload") return StatusRequest{StatusRequestKind::kReload, {}};
  return Invalid(fmt::format("unknown request '{}' (known: status, reload)",
                             EscapeLogText(received.substr(0, 32), Backslashes::kEscape)));
}

}  // namespace ferry
