// HTTP client options for AWS requests: aws.ca_file checked once at start, the proxy of each URL scheme
// from aws.proxy or the conventional environment variables (validated, normalised to scheme://host:port),
// the no-proxy list and the timeouts.
#include "agent/aws/http_options.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "agent/core/whole_file.h"

namespace ferry::aws {
namespace {

// A CA bundle bigger than this is not a CA bundle (the Mozilla one is about 200 KiB).
constexpr std::size_t kMaxCaFileBytes = std::size_t{16} << 20;

// Link-local metadata services answer within milliseconds or not at all; off EC2/ECS, a long wait for
// them would only delay the rest of the credential chain.
constexpr std::uint32_t kMetadataConnectTimeoutMs = 1000;
constexpr std::uint32_t kMetadataRequestTimeoutMs = 2000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The proxy URL as a person may see it: the password of "scheme://user:password@host" replaced by ****.
// Works on text that failed to parse too, which is exactly when it is shown.
std::string MaskPassword(std::string_view url) {
  const auto scheme_end = url.find("://");
  const auto from = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto at = url.rfind('@');  // the last one: a stray '@' in the password stays masked
  if (at == std::string_view::npos || at < from) return std::string(url);
  const auto colon = url.find(':', from);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "****" + std::string(url.substr(at));
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '%';
}

// "http://[user:password@]host[:port][/]", "https://..." or a scheme-less "host:port" (http://), as
// "scheme://[userinfo@]host:port": the port is made explicit because curl's default proxy port is 1080,
// not the scheme's. `source` names the key or variable the value came from.
Result<std::string> NormalizeProxy(std::string_view value, std::string_view source) {
  auto fail = [&](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}: proxy \"{}\" {}", source, MaskPassword(value), why));
  };
  std::string_view rest = Trim(value);
  std::string scheme = "http";
  if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
    scheme = Lower(rest.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
      return fail(fmt::format("has the unsupported scheme \"{}\" (want http:// or https://)", scheme));
    }
    rest.remove_prefix(sep + 3);
  }
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority_end != std::string_view::npos && rest.substr(authority_end) != "/") {
    return fail("has a path, query or fragment (want scheme://host:port)");
  }
  std::string_view userinfo;
  std::string_view host_port = authority;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    userinfo = authority.substr(0, at);
    host_port = authority.substr(at + 1);
  }
  std::string_view host;
  std::string_view port;
  if (!host_port.empty() && host_port.front() == '[') {  // [IPv6]
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) return fail("has an unterminated [IPv6 address]");
    host = host_port.substr(0, close + 1);
    const std::string_view after = host_port.substr(close + 1);
    if (!after.empty() && after.front() != ':') return fail("has text after its [IPv6 address]");
    if (!after.empty()) port = after.substr(1);
    if (host.size() == 2 || !std::all_of(host.begin() + 1, host.end() - 1, [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.' || c == '%';
        })) {
      return fail("has an invalid IPv6 address");
    }
  } else {
    const auto colon = host_port.find(':');
    host = host_port.substr(0, colon);
    if (colon != std::string_view::npos) port = host_port.substr(colon + 1);
    if (host.empty()) return fail("has no host");
    if (!std::all_of(host.begin(), host.end(), IsHostChar)) return fail("has an invalid host name");
  }
  std::uint32_t port_number = scheme == "https" ? 443 : 80;
  if (!port.empty() || host_port.back() == ':') {
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return fail("has an invalid port");
    }
    port_number = static_cast<std::uint32_t>(std::stoul(std::string(port)));
    if (port_number == 0 || port_number > 65535) return fail("has a port out of range (1 to 65535)");
  }
  std::string out = scheme + "://";
  if (!userinfo.empty()) out += std::string(userinfo) + "@";
  out += fmt::format("{}:{}", host, port_number);
  return out;
}

// The first of `names` set (non-empty) in the environment, with its name.
std::optional<std::pair<std::string_view, std::string>> FirstSet(
    const Environment& env, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (auto value = env.Get(name); value && !Trim(*value).empty()) return std::pair{name, std::move(*value)};
  }
  return std::nullopt;
}

// The proxy for one URL scheme: aws.proxy, else the scheme's variable (upper case first), else ALL_PROXY.
Result<std::string> ResolveProxy(const AwsOptions& aws, const Environment& env,
                                 std::initializer_list<std::string_view> variables) {
  if (!Trim(aws.proxy).empty()) return NormalizeProxy(aws.proxy, "aws.proxy");
  auto found = FirstSet(env, variables);
  if (!found) return std::string();
  return NormalizeProxy(found->second, found->first);
}

std::uint32_t Milliseconds(Duration d) {
  const auto ms = d.count();
  if (ms <= 0) return 0;
  return static_cast<std::uint32_t>(
      std::min<decltype(d.count())>(ms, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

Result<net::HttpClientOptions> AwsHttpOptions(const AwsOptions& aws, const Environment& env) {
  net::HttpClientOptions options;
  // Every problem at once, one per line, each beginning with its key or variable.
  std::string errors;
  auto fail = [&errors](const std::string& message) { errors += (errors.empty() ? "" : "\n") + message; };

  // Checked here so a typo fails at start, naming the key, instead of every TLS handshake failing later
  // with curl's "error setting certificate file".
  if (!aws.ca_file.empty()) {
    auto file = ReadWholeFile(aws.ca_file, kMaxCaFileBytes, "aws.ca_file");
    if (!file.ok()) {
      fail(file.error().message());
    } else if (file->too_large) {
      fail(fmt::format("aws.ca_file {}: larger than {} MiB, not a CA bundle", aws.ca_file,
                       kMaxCaFileBytes >> 20));
    } else if (file->bytes.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      fail(
          fmt::format("aws.ca_file {}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)", aws.ca_file));
    } else {
      options.ca_file = aws.ca_file;
    }
  }

  auto https_proxy = ResolveProxy(aws, env, {"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"});
  auto http_proxy = ResolveProxy(aws, env, {"HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"});
  if (!https_proxy.ok()) fail(https_proxy.error().message());
  // aws.proxy serves both schemes: its error once.
  if (!http_proxy.ok() && (https_proxy.ok() || http_proxy.error().message() != https_proxy.error().message()))
    fail(http_proxy.error().message());
  if (!errors.empty()) return Error(ErrorCode::kInvalidArgument, std::move(errors));
  options.https_proxy = std::move(*https_proxy);
  options.http_proxy = std::move(*http_proxy);

  if (!Trim(aws.no_proxy).empty()) {
    options.no_proxy = std::string(Trim(aws.no_proxy));
  } else if (auto found = FirstSet(env, {"NO_PROXY", "no_proxy"})) {
    options.no_proxy = std::string(Trim(found->second));
  }

  options.connect_timeout_ms = Milliseconds(aws.connect_timeout);
  options.request_timeout_ms = Milliseconds(aws.request_timeout);
  return options;
}

net::HttpClientOptions MetadataHttpOptions(const net::HttpClientOptions& aws) {
  net::HttpClientOptions options = aws;
  options.https_proxy.clear();
  options.http_proxy.clear();
  options.no_proxy.clear();
  // Shorter than the AWS timeouts, never longer than them.
  auto shorter = [](std::uint32_t configured, std::uint32_t cap) {
    return configured == 0 ? cap : std::min(configured, cap);
  };
  options.connect_timeout_ms = shorter(aws.connect_timeout_ms, kMetadataConnectTimeoutMs);
  options.request_timeout_ms = shorter(aws.request_timeout_ms, kMetadataRequestTimeoutMs);
  return options;
}

}  // namespace ferry::aws
