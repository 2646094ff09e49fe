// The client side of the status socket (see status_server.h): connect, send a request line
// (status_request.h), read the daemon's reply to EOF.
// Blocking, bounded by a deadline; for the `ferry status` command and tests, never for a loop thread.
#pragma once

#include <string>
#include <string_view>

#include "agent/core/result.h"
#include "agent/core/units.h"

namespace ferry {

// The reply as received (a JSON document and "\n"). Errors name the socket path: kNotFound when nothing
// listens there (no file, or connection refused), kNetwork when the whole reply did not arrive within
// `timeout`, kProtocol when the daemon closed without a complete reply (no final "\n"), kInvalidArgument
// when the path is too long for a unix socket, kIo otherwise.
// Sends "status\n", so the daemon closes as soon as the snapshot is written.
Result<std::string> FetchStatus(const std::string& socket_path, Duration timeout);

// Sends request (one word, "\n" is added) and returns every line of the reply (the snapshot first), with the
// errors of FetchStatus.
Result<std::string> AskStatusSocket(const std::string& socket_path, std::string_view request,
                                    Duration timeout);

}  // namespace ferry
