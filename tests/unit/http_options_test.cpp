// Tests of the HTTP client options for AWS (agent/aws/http_options): aws.ca_file checks, which proxy each
// URL scheme gets (aws.proxy, then the upper- and lower-case variables, then ALL_PROXY), proxy URL
// validation with passwords masked in errors, the no-proxy list, timeouts, and the metadata variant.
#include "agent/aws/http_options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/scratch_dir.h"

namespace ferry::aws {
namespace {

using Vars = std::map<std::string, std::string, std::less<>>;

net::HttpClientOptions Resolve(const AwsOptions& aws, Vars vars = {}) {
  auto options = AwsHttpOptions(aws, Environment(std::move(vars)));
  INFO((options ? std::string() : options.error().message()));
  REQUIRE(options.ok());
  return std::move(options).value();
}

std::string ResolveError(const AwsOptions& aws, Vars vars = {}) {
  auto options = AwsHttpOptions(aws, Environment(std::move(vars)));
  REQUIRE_FALSE(options.ok());
  CHECK(options.error().code() == ErrorCode::kInvalidArgument);
  return options.error().message();
}

constexpr char kPem[] = "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n";

TEST_CASE("No proxy, the system store and the default timeouts without config or variables", "[aws][http]") {
  const auto o = Resolve({});
  CHECK(o.ca_file.empty());
  CHECK(o.https_proxy.empty());
  CHECK(o.http_proxy.empty());
  CHECK(o.no_proxy.empty());
  CHECK(o.connect_timeout_ms == 10000);
  CHECK(o.request_timeout_ms == 30000);
}

TEST_CASE("Timeouts come from aws.connect_timeout and aws.request_timeout", "[aws][http]") {
  AwsOptions aws;
  aws.connect_timeout = Duration(2500);
  aws.request_timeout = Duration(45000);
  const auto o = Resolve(aws);
  CHECK(o.connect_timeout_ms == 2500);
  CHECK(o.request_timeout_ms == 45000);
}

TEST_CASE("Each URL scheme takes its own variable, upper case first, then ALL_PROXY", "[aws][http]") {
  SECTION("upper case") {
    const auto o = Resolve({}, {{"HTTPS_PROXY", "http://secure:3128"}, {"HTTP_PROXY", "http://plain:8080"}});
    CHECK(o.https_proxy == "http://secure:3128");
    CHECK(o.http_proxy == "http://plain:8080");
  }
  SECTION("lower case") {
    const auto o = Resolve({}, {{"https_proxy", "http://secure:3128"}, {"http_proxy", "http://plain:8080"}});
    CHECK(o.https_proxy == "http://secure:3128");
    CHECK(o.http_proxy == "http://plain:8080");
  }
  SECTION("upper case wins over lower case") {
    const auto o = Resolve({}, {{"HTTPS_PROXY", "http://upper:1"}, {"https_proxy", "http://lower:2"}});
    CHECK(o.https_proxy == "http://upper:1");
    CHECK(o.http_proxy.empty());  // HTTPS_PROXY is not for http:// URLs
  }
  SECTION("an empty upper-case variable does not hide the lower-case one") {
    const auto o = Resolve({}, {{"HTTPS_PROXY", ""}, {"https_proxy", "http://lower:2"}});
    CHECK(o.https_proxy == "http://lower:2");
  }
  SECTION("ALL_PROXY, then all_proxy, as the last resort") {
    auto o = Resolve({}, {{"ALL_PROXY", "http://all:3"},
                          {"all_proxy", "http://lower-all:4"},
                          {"HTTP_PROXY", "http://plain:8080"}});
    CHECK(o.https_proxy == "http://all:3");
    CHECK(o.http_proxy == "http://plain:8080");
    o = Resolve({}, {{"all_proxy", "http://lower-all:4"}});
    CHECK(o.https_proxy == "http://lower-all:4");
    CHECK(o.http_proxy == "http://lower-all:4");
  }
}

TEST_CASE("aws.proxy is used for both schemes, whatever the variables say", "[aws][http]") {
  AwsOptions aws;
  aws.proxy = "http://user:pw@proxy.internal:3128";
  const auto o = Resolve(aws, {{"HTTPS_PROXY", "http://other:1"}, {"HTTP_PROXY", "not a url://"}});
  CHECK(o.https_proxy == "http://user:pw@proxy.internal:3128");
  CHECK(o.http_proxy == "http://user:pw@proxy.internal:3128");
}

TEST_CASE("Proxy URLs are normalised to scheme://host:port", "[aws][http]") {
  auto https_proxy_of = [](std::string value) {
    AwsOptions aws;
    aws.proxy = std::move(value);
    return Resolve(aws).https_proxy;
  };
  CHECK(https_proxy_of("proxy:3128") == "http://proxy:3128");            // scheme-less means http
  CHECK(https_proxy_of("HTTP://proxy:3128/") == "http://proxy:3128");    // case, trailing slash
  CHECK(https_proxy_of("  http://proxy:3128 ") == "http://proxy:3128");  // whitespace
  CHECK(https_proxy_of("http://proxy") == "http://proxy:80");            // not curl's 1080
  CHECK(https_proxy_of("https://proxy") == "https://proxy:443");         // a TLS proxy
  CHECK(https_proxy_of("http://10.0.0.1:8080") == "http://10.0.0.1:8080");
  CHECK(https_proxy_of("http://[fd00::1]:3128") == "http://[fd00::1]:3128");
  CHECK(https_proxy_of("u:p@proxy:3128") == "http://u:p@proxy:3128");
}

TEST_CASE("Bad proxy URLs are refused, naming the key or variable, never showing the password",
          "[aws][http]") {
  SECTION("aws.proxy with another scheme") {
    AwsOptions aws;
    aws.proxy = "socks5://alice:s3cret@proxy:1080";
    const std::string e = ResolveError(aws);
    CHECK_THAT(e, Catch::StartsWith("aws.proxy: "));
    CHECK_THAT(e, Catch::Contains("socks5"));
    CHECK_THAT(e, Catch::Contains("alice:****@proxy:1080"));
    CHECK_THAT(e, !Catch::Contains("s3cret"));
  }
  SECTION("a variable with a path") {
    const std::string e = ResolveError({}, {{"https_proxy", "http://bob:hunter2@proxy:3128/path"}});
    CHECK_THAT(e, Catch::StartsWith("https_proxy: "));
    CHECK_THAT(e, Catch::Contains("bob:****@proxy"));
    CHECK_THAT(e, !Catch::Contains("hunter2"));
  }
  SECTION("scheme-less with a password and a bad port") {
    const std::string e = ResolveError({}, {{"HTTP_PROXY", "carol:pa:ss@proxy:99999"}});
    CHECK_THAT(e, Catch::StartsWith("HTTP_PROXY: "));
    CHECK_THAT(e, Catch::Contains("port"));
    CHECK_THAT(e, !Catch::Contains("pa:ss"));
    CHECK_THAT(e, !Catch::Contains("ss@"));
  }
  SECTION("other bad values") {
    for (const char* bad : {"http://", "http://:3128", "http://proxy:", "http://proxy:abc", "http://proxy:0",
                            "http://pro xy:3128", "http://[fd00::1:3128", "ALL_PROXY=http://x:1"}) {
      INFO(bad);
      CHECK_THAT(ResolveError({}, {{"ALL_PROXY", bad}}), Catch::StartsWith("ALL_PROXY: proxy \""));
    }
  }
}

TEST_CASE("The no-proxy list comes from aws.no_proxy, else NO_PROXY, else no_proxy", "[aws][http]") {
  CHECK(Resolve({}, {{"no_proxy", "lower.example"}}).no_proxy == "lower.example");
  CHECK(Resolve({}, {{"NO_PROXY", "upper.example"}, {"no_proxy", "lower.example"}}).no_proxy ==
        "upper.example");
  AwsOptions aws;
  aws.no_proxy = "169.254.169.254, .internal";
  CHECK(Resolve(aws, {{"NO_PROXY", "upper.example"}}).no_proxy == "169.254.169.254, .internal");
}

TEST_CASE("aws.ca_file must be a readable PEM file", "[aws][http]") {
  testing::ScratchDir dir("ferry-http-options");
  AwsOptions aws;
  SECTION("a PEM bundle is taken") {
    aws.ca_file = dir / "ca.pem";
    std::ofstream(aws.ca_file) << kPem;
    CHECK(Resolve(aws).ca_file == aws.ca_file);
  }
  SECTION("missing") {
    aws.ca_file = dir / "missing.pem";
    const std::string e = ResolveError(aws);
    CHECK_THAT(e, Catch::StartsWith("aws.ca_file " + aws.ca_file));
    CHECK_THAT(e, Catch::Contains("ENOENT"));
  }
  SECTION("a directory") {
    aws.ca_file = dir.path();
    CHECK_THAT(ResolveError(aws), Catch::StartsWith("aws.ca_file " + aws.ca_file));
  }
  SECTION("not PEM") {
    aws.ca_file = dir / "ca.der";
    std::ofstream(aws.ca_file) << "\x30\x82\x01\x0a";
    CHECK_THAT(ResolveError(aws), Catch::Contains("no PEM certificate"));
  }
  SECTION("unreadable") {
    if (::geteuid() == 0) return;  // root reads it anyway
    aws.ca_file = dir / "ca.pem";
    std::ofstream(aws.ca_file) << kPem;
    REQUIRE(::chmod(aws.ca_file.c_str(), 0) == 0);
    const std::string e = ResolveError(aws);
    CHECK_THAT(e, Catch::StartsWith("aws.ca_file " + aws.ca_file));
    CHECK_THAT(e, Catch::Contains("EACCES"));
  }
}

TEST_CASE("Metadata options never use a proxy and wait less", "[aws][http]") {
  AwsOptions aws;
  aws.proxy = "http://proxy:3128";
  aws.no_proxy = "example.com";
  auto o = Resolve(aws);
  o.user_agent = "ferry/test";
  const auto m = MetadataHttpOptions(o);
  CHECK(m.https_proxy.empty());
  CHECK(m.http_proxy.empty());
  CHECK(m.no_proxy.empty());
  CHECK(m.connect_timeout_ms == 1000);
  CHECK(m.request_timeout_ms == 2000);
  CHECK(m.user_agent == "ferry/test");
  aws.connect_timeout = Duration(500);
  aws.request_timeout = Duration(1000);
  const auto shorter = MetadataHttpOptions(Resolve(aws));
  CHECK(shorter.connect_timeout_ms == 500);
  CHECK(shorter.request_timeout_ms == 1000);
}

}  // namespace
}  // namespace ferry::aws
