// ListenAddress: splits host and port by hand (the last ':' outside brackets) and lets inet_pton judge
// the host, so a name that would need DNS is refused rather than looked up.
#include "agent/ops/listen_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace ferry {

std::string ListenAddress::ToString() const {
  if (addr.ss_family == AF_INET6) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&text](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' is not a listen address ({}); write host:port, [ipv6]:port or :port, "
                             "e.g. 127.0.0.1:9145",
                             text, why));
  };
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("no ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("no :port after ']'");
    port_text = text.substr(close + 2);
    if (host.empty()) return bad("empty IPv6 address");
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no :port");
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return bad("an IPv6 address needs brackets: [::1]:9145");
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return bad("the port must be a number from 1 to 65535");
  }
  ListenAddress out;
  out.port = static_cast<std::uint16_t>(port);
  // No host: the loopback. An operator who wants other hosts to scrape writes the address out.
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  out.host = std::string(host);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
  if (::inet_pton(AF_INET, out.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(out.port);
    out.loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  } else if (::inet_pton(AF_INET6, out.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(out.port);
    out.loopback = std::memcmp(&v6->sin6_addr, &in6addr_loopback, sizeof(in6_addr)) == 0;
  } else {
    return bad("the host must be an IP address or localhost; names are not looked up");
  }
  return out;
}

}  // namespace ferry
