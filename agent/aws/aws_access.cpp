// AwsAccess: the start-up order is region, endpoints (STS's included), then credentials, because the
// providers that assume roles need STS and STS needs the region.
#include "agent/aws/aws_access.h"

#include <fmt/format.h>

#include "agent/aws/assume_role_provider.h"
#include "agent/aws/credential_chain.h"
#include "agent/aws/http_options.h"
#include "agent/aws/instance_metadata.h"
#include "agent/aws/sts_call.h"
#include "agent/core/masking.h"

namespace ferry::aws {

AwsAccess::AwsAccess(uv_loop_t* loop, const config::AwsOptions& aws, const Environment& env,
                     const Clock& clock, spdlog::logger& log)
    : loop_(loop), aws_(aws), env_(env), clock_(clock), log_(log) {}

AwsAccess::~AwsAccess() = default;

Status AwsAccess::RunUntil(const bool& done, const char* what) {
  while (!done) {
    if (uv_run(loop_, UV_RUN_ONCE) == 0 && !done) {
      return Error(ErrorCode::kInternal, fmt::format("{}: nothing left to wait for", what));
    }
  }
  return Status::Ok();
}

Status AwsAccess::Resolve(bool kinesis, bool firehose) {
  auto options = AwsHttpOptions(aws_, env_);
  if (!options) return options.error();
  http_ = std::make_unique<net::HttpClient>(loop_, *options);
  metadata_http_ = std::make_unique<net::HttpClient>(loop_, MetadataHttpOptions(*options));
  ctx_ =
      std::make_unique<ProviderContext>(ProviderContext{loop_, *http_, *metadata_http_, clock_, env_, log_});

  auto files = LoadProfileFiles(env_);
  if (!files) return files.error();
  for (const auto* warnings : {&files->config.warnings, &files->credentials.warnings}) {
    for (const auto& warning : *warnings) log_.warn("{}", warning);
  }
  const auto [profile, named] = ChosenProfile(aws_, env_);
  Status region = ResolveRegion(*files, profile);
  if (!region) return region;

  const bool fips = UseFips(aws_, env_);
  auto endpoint = [&](std::string_view service, const std::string& configured,
                      std::optional<ServiceEndpoint>& out) -> Status {
    EndpointSetting custom = CustomEndpoint(service, configured, env_);
    auto resolved = ResolveEndpoint(service, region_, custom.url, fips);
    if (!resolved) {
      return Error(ErrorCode::kInvalidArgument,
                   custom.source.empty() ? resolved.error().message()
                                         : fmt::format("{}: {}", custom.source, resolved.error().message()));
    }
    out = std::move(*resolved);
    return Status::Ok();
  };
  if (kinesis) {
    if (Status s = endpoint("kinesis", aws_.kinesis_endpoint, kinesis_); !s) return s;
  }
  if (firehose) {
    if (Status s = endpoint("firehose", aws_.firehose_endpoint, firehose_); !s) return s;
  }
  if (Status s = endpoint("sts", aws_.sts_endpoint, sts_); !s) return s;
  return ResolveCredentials(*files);
}

Status AwsAccess::ResolveRegion(const ProfileFiles& files, const std::string& profile) {
  if (auto region = RegionFromConfigOrEnvironment(aws_, env_)) {
    region_ = *region;
    region_source_ = !aws_.region.empty() ? "config" : "environment";
    return Status::Ok();
  }
  if (auto settings = files.Profile(profile)) {
    if (auto it = settings->values.find("region"); it != settings->values.end() && !it->second.empty()) {
      region_ = it->second;
      region_source_ = "profile " + profile;
      return Status::Ok();
    }
  }
  std::string imds_why = "AWS_EC2_METADATA_DISABLED is true";
  if (!InstanceMetadata::DisabledBy(env_)) {
    InstanceMetadata imds(*ctx_, InstanceMetadata::EndpointFrom(env_), aws_.imds_v1_fallback);
    bool done = false;
    Result<std::string> answer = Error(ErrorCode::kInternal, "no answer");
    imds.Get("/latest/meta-data/placement/region", [&](Result<std::string> got) {
      answer = std::move(got);
      done = true;
    });
    if (Status s = RunUntil(done, "the region from the instance metadata service"); !s) return s;
    if (answer && !answer->empty() && answer->find_first_of(" \r\n/") == std::string::npos) {
      region_ = *answer;
      region_source_ = "EC2 instance metadata";
      return Status::Ok();
    }
    imds_why = answer ? "an empty or malformed answer" : answer.error().message();
  }
  return Error(
      ErrorCode::kInvalidArgument,
      fmt::format("no AWS region: set aws.region in the config, AWS_REGION or AWS_DEFAULT_REGION, or "
                  "region in profile {}; the EC2 instance metadata service had none ({})",
                  profile, imds_why));
}

Status AwsAccess::ResolveCredentials(const ProfileFiles& files) {
  const auto [profile, named] = ChosenProfile(aws_, env_);
  const std::string session_name =
      aws_.role_session_name.empty() ? DefaultRoleSessionName(env_.hostname()) : aws_.role_session_name;
  ChainSettings settings{*sts_, session_name, profile, named, aws_.imds_v1_fallback};
  bool done = false;
  Result<FoundCredentials> found = Error(ErrorCode::kInternal, "no answer");
  FindCredentials(BuildCredentialChain(aws_, *ctx_, files, settings), [&](Result<FoundCredentials> got) {
    found = std::move(got);
    done = true;
  });
  if (Status s = RunUntil(done, "the AWS credential chain"); !s) return s;
  if (!found) return found.error();
  std::unique_ptr<CredentialProvider> provider = std::move(found->provider);
  for (const auto& failure : found->failures) {
    log_.warn("AWS credentials: {}; using {} instead", failure, provider->name());
  }
  TimedCredentials first = std::move(found->credentials);
  if (!aws_.role_arn.empty()) {
    std::string name = fmt::format("role {} via {}", aws_.role_arn, provider->name());
    provider = std::make_unique<AssumeRoleProvider>(
        *ctx_, std::move(name), std::move(provider),
        AssumeRoleSettings{aws_.role_arn, session_name, aws_.external_id, 0}, *sts_);
    bool assumed = false;
    Result<TimedCredentials> role = Error(ErrorCode::kInternal, "no answer");
    provider->Fetch([&](Result<TimedCredentials> got) {
      role = std::move(got);
      assumed = true;
    });
    if (Status s = RunUntil(assumed, "aws.role_arn"); !s) return s;
    if (!role) {
      provider->Close();
      return Error(role.error().code(), "aws.role_arn: " + role.error().message());
    }
    first = std::move(*role);
  }
  credentials_ =
      std::make_unique<RefreshingCredentials>(loop_, clock_, log_, std::move(provider), std::move(first));
  return Status::Ok();
}

std::string AwsAccess::Describe() const {
  std::string text = fmt::format("AWS region {} (from {})", region_, region_source_);
  if (credentials_) {
    text += fmt::format(", credentials from {} (access key {})", credentials_->provider_name(),
                        MaskAllButLast(credentials_->current().access_key_id));
    if (auto expiration = credentials_->expiration()) {
      text += fmt::format(", valid for {} s", *expiration - clock_.UnixSeconds());
    }
  }
  if (kinesis_) text += ", Kinesis at " + kinesis_->url;
  if (firehose_) text += ", Firehose at " + firehose_->url;
  return text;
}

void AwsAccess::Close(std::function<void()> on_closed) {
  // Credentials first, so no refresh starts while the clients close; the clients' aborted requests then
  // settle every callback.
  auto step = std::make_shared<std::function<void()>>();
  closing_ = 1 + (http_ ? 1 : 0) + (metadata_http_ ? 1 : 0);
  *step = [this, on_closed = std::move(on_closed)] {
    if (--closing_ == 0) on_closed();
  };
  if (credentials_) {
    ++closing_;
    credentials_->Close([step] { (*step)(); });
  }
  if (http_) http_->Close([step] { (*step)(); });
  if (metadata_http_) metadata_http_->Close([step] { (*step)(); });
  (*step)();
}

}  // namespace ferry::aws
