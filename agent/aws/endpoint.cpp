// Endpoint: URLs are parsed with libcurl's URL API, the same parser that will later connect to them.
#include "agent/aws/endpoint.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>

#include <fmt/format.h>

namespace ferry::aws {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

CurlString UrlPart(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK) return nullptr;
  return CurlString(value);
}

}  // namespace

Result<UrlParts> SplitUrl(std::string_view text) {
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return Error(ErrorCode::kInternal, "out of memory parsing a URL");
  const std::string copy(text);
  CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, copy.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' is not a valid URL: {}", text, curl_url_strerror(rc)));
  }
  UrlParts parts;
  for (auto [part, out] : {std::pair{CURLUPART_SCHEME, &parts.scheme}, std::pair{CURLUPART_HOST, &parts.host},
                           std::pair{CURLUPART_PORT, &parts.port}, std::pair{CURLUPART_PATH, &parts.path}}) {
    if (CurlString value = UrlPart(url.get(), part)) *out = value.get();
  }
  return parts;
}

std::optional<std::string> RegionFromConfigOrEnvironment(const AwsOptions& aws, const Environment& env) {
  if (!aws.region.empty()) return aws.region;
  if (auto r = env.Get("AWS_REGION")) return *r;
  if (auto r = env.Get("AWS_DEFAULT_REGION")) return *r;
  return std::nullopt;
}

std::string_view PartitionDomain(std::string_view region) {
  if (region.starts_with("cn-")) return "amazonaws.com.cn";
  if (region.starts_with("us-isob-")) return "sc2s.sgov.gov";
  if (region.starts_with("us-iso-")) return "c2s.ic.gov";
  return "amazonaws.com";
}

EndpointSetting CustomEndpoint(std::string_view service, const std::string& config_value,
                               const Environment& env) {
  if (!config_value.empty()) return {config_value, fmt::format("aws.{}_endpoint", service)};
  std::string variable = "AWS_ENDPOINT_URL_";
  for (char c : service) variable += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (auto url = env.Get(variable)) return {*url, variable};
  if (auto url = env.Get("AWS_ENDPOINT_URL")) return {*url, "AWS_ENDPOINT_URL"};
  return {};
}

bool UseFips(const AwsOptions& aws, const Environment& env) {
  if (aws.use_fips) return true;
  auto value = env.Get("AWS_USE_FIPS_ENDPOINT");
  return value && (*value == "true" || *value == "TRUE" || *value == "True");
}

Result<ServiceEndpoint> ResolveEndpoint(std::string_view service, std::string_view region,
                                        std::string_view custom_url, bool fips) {
  if (custom_url.empty() && fips && region.starts_with("cn-")) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("there are no FIPS endpoints in {} (China); turn use_fips off", region));
  }
  std::string text = custom_url.empty() ? fmt::format("https://{}{}.{}.{}/", service, fips ? "-fips" : "",
                                                      region, PartitionDomain(region))
                                        : std::string(custom_url);
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return Error(ErrorCode::kInternal, "out of memory parsing a URL");
  CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("endpoint '{}' is not a valid URL: {}", text, curl_url_strerror(rc)));
  }
  CurlString scheme = UrlPart(url.get(), CURLUPART_SCHEME);
  CurlString host = UrlPart(url.get(), CURLUPART_HOST);
  CurlString port = UrlPart(url.get(), CURLUPART_PORT);
  CurlString path = UrlPart(url.get(), CURLUPART_PATH);
  std::string_view s = scheme ? scheme.get() : "";
  if (s != "http" && s != "https") {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("endpoint '{}' must be an http:// or https:// URL", text));
  }
  if (!host || *host.get() == '\0') {
    return Error(ErrorCode::kInvalidArgument, fmt::format("endpoint '{}' has no host", text));
  }
  if (UrlPart(url.get(), CURLUPART_USER) || UrlPart(url.get(), CURLUPART_QUERY) ||
      UrlPart(url.get(), CURLUPART_FRAGMENT)) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("endpoint '{}' must be scheme://host[:port] only (no user, query or fragment)", text));
  }
  if (path && std::string_view(path.get()) != "/") {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("endpoint '{}' must not have a path (the API is served at /)", text));
  }
  ServiceEndpoint out;
  out.host = host.get();
  // The Host header names a port only when it is not the scheme's default, as HTTP clients send it.
  std::string_view default_port = s == "https" ? "443" : "80";
  if (port && std::string_view(port.get()) != default_port) out.host += fmt::format(":{}", port.get());
  out.url = fmt::format("{}://{}/", s, out.host);
  out.region = std::string(region);
  out.service = std::string(service);
  return out;
}

Result<ServiceEndpoint> ResolveServiceEndpoint(std::string_view service, const std::string& configured,
                                               std::string_view region, const Environment& env, bool fips) {
  const EndpointSetting custom = CustomEndpoint(service, configured, env);
  auto resolved = ResolveEndpoint(service, region, custom.url, fips);
  if (!resolved && !custom.source.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}: {}", custom.source, resolved.error().message()));
  }
  if (!resolved) return Error(ErrorCode::kInvalidArgument, resolved.error().message());
  return resolved;
}

}  // namespace ferry::aws
