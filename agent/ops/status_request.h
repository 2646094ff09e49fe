// StatusRequest: the request line a client of the status socket (status_server.h) may send. Every client is
// sent the status snapshot at once, whatever it sends; the request line only asks for more, so a client that
// sends nothing (older `ferry status`, `socat`, a monitoring script) keeps working unchanged.
//   "status\n"  the snapshot only (what `ferry status` sends, so the daemon closes at once instead of
//               waiting for a request that never comes)
//   "reload\n"  the snapshot, then one JSON line with the outcome of re-reading the config (ops/daemon.h)
// A line is at most kMaxStatusRequestBytes with its newline; "\r\n" is accepted. Anything else is answered
// with one JSON line {"error": "..."} after the snapshot.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry {

inline constexpr std::size_t kMaxStatusRequestBytes = 64;

enum class StatusRequestKind {
  kIncomplete,  // no newline yet and room for more: read on
  kStatus,
  kReload,
  kInvalid,  // too long, not a known word,: `error` says which
};

struct StatusRequest {
  StatusRequestKind kind = StatusRequestKind::kIncomplete;
  std::string error;  // kInvalid only; quotes at most the first 32 bytes, escaped
};

// Parses what a client has sent so far. at_eof: the client shut down its side, so an unterminated line is
// complete (an empty one asks for the status, as no request at all does).
StatusRequest ParseStatusRequest(std::string_view received, bool at_eof);

}  // namespace ferry
