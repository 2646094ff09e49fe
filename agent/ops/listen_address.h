// ListenAddress: the address the metrics endpoint listens on, as written in ferry.yaml (`metrics.listen`):
// "host:port", "[ipv6]:port" or ":port". The host is an IP literal or "localhost"; an empty host means
// the IPv4 loopback, never every interface, so ferry is reachable from other hosts only where an address
// such as 0.0.0.0 or [::] is written out. No name is looked up: parsing needs no network, so `ferry check`
// and `ferry run` agree on what it means. Pure functions; any thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

struct ListenAddress {
  std::string host;  // the IP literal, IPv6 without brackets ("127.0.0.1", "::1")
  std::uint16_t port = 0;
  bool loopback = false;  // 127.0.0.0/8 or ::1
  sockaddr_storage addr{};

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&addr); }
  // "127.0.0.1:9145", "[::1]:9145": how messages name it.
  std::string ToString() const;
};

// kInvalidArgument with a message that says what is wrong (without the key: the caller names it).
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace ferry
