// The client side of the status socket (see status_server.h): connect, read the daemon's reply to EOF.
// Blocking, bounded by a deadline; for the `ferry status` command and tests, never for a loop thread.
#pragma once

#include <string>

#include "agent/core/result.h"
#include "agent/core/units.h"

namespace ferry {

// The reply as received (a JSON document and "\n"). Errors name the socket path: kNotFound when nothing
// listens there (no file, or connection refused), kNetwork when the whole reply did not arrive within
// `timeout`, kProtocol when the daemon closed without a complete reply (no final "\n"), kInvalidArgument
// when the path is too long for a unix socket, kIo otherwise.
Result<std::string> FetchStatus(const std::string& socket_path, Duration timeout);

}  // namespace ferry
