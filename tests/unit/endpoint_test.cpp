// Tests of endpoint and region resolution (agent/aws/endpoint).
#include "agent/aws/endpoint.h"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <map>
#include <string>

namespace ferry::aws {
namespace {

Environment Env(std::map<std::string, std::string, std::less<>> vars) {
  return Environment(std::move(vars));
}

std::string EndpointError(std::string_view url) {
  auto r = ResolveEndpoint("kinesis", "us-east-1", url);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  return r.error().message();
}

TEST_CASE("The default endpoint is the regional amazonaws.com host", "[endpoint]") {
  auto r = ResolveEndpoint("kinesis", "us-east-1", "");
  REQUIRE(r.ok());
  CHECK(r->url == "https://kinesis.us-east-1.amazonaws.com/");
  CHECK(r->host == "kinesis.us-east-1.amazonaws.com");
  CHECK(r->region == "us-east-1");
  CHECK(r->service == "kinesis");

  auto firehose = ResolveEndpoint("firehose", "ap-southeast-2", "");
  REQUIRE(firehose.ok());
  CHECK(firehose->url == "https://firehose.ap-southeast-2.amazonaws.com/");
  CHECK(firehose->host == "firehose.ap-southeast-2.amazonaws.com");
  CHECK(firehose->service == "firehose");
}

TEST_CASE("A custom http endpoint keeps its port in the host", "[endpoint]") {
  for (const char* url : {"http://127.0.0.1:4567", "http://127.0.0.1:4567/"}) {
    INFO(url);
    auto r = ResolveEndpoint("kinesis", "us-east-1", url);
    REQUIRE(r.ok());
    CHECK(r->url == "http://127.0.0.1:4567/");
    CHECK(r->host == "127.0.0.1:4567");
    CHECK(r->region == "us-east-1");
    CHECK(r->service == "kinesis");
  }
}

TEST_CASE("A custom https endpoint with an explicit port", "[endpoint]") {
  auto r = ResolveEndpoint("kinesis", "eu-west-1",
                           "https://vpce-0123-abcd.kinesis.eu-west-1.vpce.amazonaws.com:8443/");
  REQUIRE(r.ok());
  CHECK(r->url == "https://vpce-0123-abcd.kinesis.eu-west-1.vpce.amazonaws.com:8443/");
  CHECK(r->host == "vpce-0123-abcd.kinesis.eu-west-1.vpce.amazonaws.com:8443");
  CHECK(r->region == "eu-west-1");
}

TEST_CASE("A custom endpoint without a port has a bare host", "[endpoint]") {
  auto r = ResolveEndpoint("kinesis", "us-east-1", "https://kinesis.example.com");
  REQUIRE(r.ok());
  CHECK(r->url == "https://kinesis.example.com/");
  CHECK(r->host == "kinesis.example.com");
}

// endpoint.h: host is "host, plus :port when not the scheme's default", as HTTP clients send Host.
TEST_CASE("An explicit default port is left out of the host", "[endpoint]") {
  auto https = ResolveEndpoint("kinesis", "us-east-1", "https://kinesis.example.com:443/");
  REQUIRE(https.ok());
  CHECK(https->host == "kinesis.example.com");
  CHECK(https->url == "https://kinesis.example.com/");
  auto http = ResolveEndpoint("kinesis", "us-east-1", "http://localhost:80/");
  REQUIRE(http.ok());
  CHECK(http->host == "localhost");
  CHECK(http->url == "http://localhost/");
  // The other scheme's default port is not a default here.
  auto cross = ResolveEndpoint("kinesis", "us-east-1", "http://localhost:443/");
  REQUIRE(cross.ok());
  CHECK(cross->host == "localhost:443");
  CHECK(cross->url == "http://localhost:443/");
}

TEST_CASE("An endpoint must be http or https", "[endpoint]") {
  CHECK(EndpointError("ftp://kinesis.example.com/") ==
        "endpoint 'ftp://kinesis.example.com/' must be an http:// or https:// URL");
}

TEST_CASE("An endpoint must have a host", "[endpoint]") {
  CHECK(EndpointError("http://") == "endpoint 'http://' is not a valid URL: No host part in the URL");
  CHECK(EndpointError("https:///") == "endpoint 'https:///' is not a valid URL: No host part in the URL");
}

TEST_CASE("An endpoint must not have a path", "[endpoint]") {
  CHECK(EndpointError("https://kinesis.example.com/v1") ==
        "endpoint 'https://kinesis.example.com/v1' must not have a path (the API is served at /)");
  CHECK(EndpointError("http://127.0.0.1:4567/kinesis/") ==
        "endpoint 'http://127.0.0.1:4567/kinesis/' must not have a path (the API is served at /)");
}

TEST_CASE("An endpoint must not carry a user, a query or a fragment", "[endpoint]") {
  for (const char* url : {"https://user:pw@kinesis.example.com/", "https://kinesis.example.com/?a=b",
                          "https://kinesis.example.com/#top"}) {
    INFO(url);
    CHECK(EndpointError(url) ==
          fmt::format("endpoint '{}' must be scheme://host[:port] only (no user, query or fragment)", url));
  }
}

TEST_CASE("Garbage is not an endpoint", "[endpoint]") {
  CHECK(EndpointError("not a url") == "endpoint 'not a url' is not a valid URL: Bad scheme");
  CHECK(EndpointError("kinesis.example.com") ==
        "endpoint 'kinesis.example.com' is not a valid URL: Bad scheme");
}

TEST_CASE("The region comes from the config first", "[endpoint]") {
  AwsOptions aws;
  aws.region = "eu-central-1";
  auto r = RegionFromConfigOrEnvironment(
      aws, Env({{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "us-east-1"}}));
  REQUIRE(r);
  CHECK(*r == "eu-central-1");
}

TEST_CASE("The region falls back to AWS_REGION, then AWS_DEFAULT_REGION", "[endpoint]") {
  AwsOptions aws;
  auto both = RegionFromConfigOrEnvironment(
      aws, Env({{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "us-east-1"}}));
  REQUIRE(both);
  CHECK(*both == "us-west-2");

  auto fallback = RegionFromConfigOrEnvironment(aws, Env({{"AWS_DEFAULT_REGION", "us-east-1"}}));
  REQUIRE(fallback);
  CHECK(*fallback == "us-east-1");

  // An empty variable counts as unset.
  auto empty =
      RegionFromConfigOrEnvironment(aws, Env({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "sa-east-1"}}));
  REQUIRE(empty);
  CHECK(*empty == "sa-east-1");

  // Without either, the caller asks the profile and the instance metadata service.
  CHECK_FALSE(RegionFromConfigOrEnvironment(aws, Env({{"AWS_PROFILE", "dev"}, {"AWS_REGION", ""}})));
}

TEST_CASE("China regions use the amazonaws.com.cn partition", "[endpoint]") {
  auto r = ResolveEndpoint("kinesis", "cn-north-1", "");
  REQUIRE(r.ok());
  CHECK(r->url == "https://kinesis.cn-north-1.amazonaws.com.cn/");
  CHECK(r->host == "kinesis.cn-north-1.amazonaws.com.cn");
  CHECK(r->region == "cn-north-1");  // signed for the region, whatever the domain
  CHECK(PartitionDomain("cn-northwest-1") == "amazonaws.com.cn");
  CHECK(PartitionDomain("us-gov-west-1") == "amazonaws.com");
}

TEST_CASE("FIPS endpoints carry -fips in the host and sign as the plain service", "[endpoint]") {
  auto r = ResolveEndpoint("firehose", "us-gov-west-1", "", true);
  REQUIRE(r.ok());
  CHECK(r->url == "https://firehose-fips.us-gov-west-1.amazonaws.com/");
  CHECK(r->service == "firehose");
  CHECK(r->region == "us-gov-west-1");
  // A custom URL wins over FIPS: a VPC endpoint is named exactly.
  auto custom =
      ResolveEndpoint("kinesis", "us-east-1", "https://vpce-1.kinesis.us-east-1.vpce.amazonaws.com", true);
  REQUIRE(custom.ok());
  CHECK(custom->host == "vpce-1.kinesis.us-east-1.vpce.amazonaws.com");
  // China has none.
  auto china = ResolveEndpoint("kinesis", "cn-north-1", "", true);
  REQUIRE_FALSE(china.ok());
  CHECK(china.error().message().find("no FIPS endpoints") != std::string::npos);
}

TEST_CASE("FIPS from the config or AWS_USE_FIPS_ENDPOINT", "[endpoint]") {
  AwsOptions aws;
  CHECK_FALSE(UseFips(aws, Env({})));
  CHECK(UseFips(aws, Env({{"AWS_USE_FIPS_ENDPOINT", "true"}})));
  CHECK_FALSE(UseFips(aws, Env({{"AWS_USE_FIPS_ENDPOINT", "false"}})));
  aws.use_fips = true;
  CHECK(UseFips(aws, Env({})));
}

TEST_CASE("Custom endpoints: config key, then the service's variable, then AWS_ENDPOINT_URL", "[endpoint]") {
  const auto env =
      Env({{"AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:1"}, {"AWS_ENDPOINT_URL", "http://127.0.0.1:2"}});
  auto configured = CustomEndpoint("kinesis", "http://127.0.0.1:3", env);
  CHECK(configured.url == "http://127.0.0.1:3");
  CHECK(configured.source == "aws.kinesis_endpoint");
  auto service = CustomEndpoint("kinesis", "", env);
  CHECK(service.url == "http://127.0.0.1:1");
  CHECK(service.source == "AWS_ENDPOINT_URL_KINESIS");
  auto global = CustomEndpoint("sts", "", env);
  CHECK(global.url == "http://127.0.0.1:2");
  CHECK(global.source == "AWS_ENDPOINT_URL");
  CHECK(CustomEndpoint("firehose", "", Env({})).url.empty());
}

TEST_CASE("SplitUrl gives the parts curl will connect to", "[endpoint]") {
  auto parts = SplitUrl("HTTP://127.0.0.1:8080/v2/credentials/abc");
  REQUIRE(parts.ok());
  CHECK(parts->scheme == "http");
  CHECK(parts->host == "127.0.0.1");
  CHECK(parts->port == "8080");
  CHECK(parts->path == "/v2/credentials/abc");
  CHECK_FALSE(SplitUrl("no scheme").ok());
}

}  // namespace
}  // namespace ferry::aws
