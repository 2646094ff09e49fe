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

AwsAccess::AwsAccess(uv_loop_t* loop, const AwsOptions& aws, const Environment& env, const Clock& clock,
                     spdlog::logger& log)
    : loop_(loop), aws_(aws), env_(env), clock_(clock), log_(log) {}

AwsAccess::~AwsAccess() = default;

void AwsAccess::Resolve(bool kinesis, bool firehose, std::function<void(Status)> done) {
  resolved_ = std::move(done);
  wants_kinesis_ = kinesis;
  wants_firehose_ = firehose;
  auto options = AwsHttpOptions(aws_, env_);
  if (!options) return Finish(options.error());
  http_ = std::make_unique<net::HttpClient>(loop_, *options);
  metadata_http_ = std::make_unique<net::HttpClient>(loop_, MetadataHttpOptions(*options));
  ctx_ =
      std::make_unique<ProviderContext>(ProviderContext{loop_, *http_, *metadata_http_, clock_, env_, log_});

  auto files = LoadProfileFiles(env_);
  if (!files) return Finish(files.error());
  files_ = std::move(*files);
  for (const auto* warnings : {&files_->config.warnings, &files_->credentials.warnings}) {
    for (const auto& warning : *warnings) log_.warn("{}", warning);
  }
  ResolveRegion(ChosenProfile(aws_, env_).first);
}

void AwsAccess::Finish(Status status) {
  if (closed_ || !resolved_) return;
  auto done = std::move(resolved_);
  resolved_ = nullptr;
  done(std::move(status));
}

void AwsAccess::ResolveRegion(const std::string& profile) {
  if (auto region = RegionFromConfigOrEnvironment(aws_, env_)) {
    region_ = *region;
    region_source_ = !aws_.region.empty() ? "config" : "environment";
    return ResolveEndpoints();
  }
  if (auto settings = files_->Profile(profile)) {
    if (auto it = settings->values.find("region"); it != settings->values.end() && !it->second.empty()) {
      region_ = it->second;
      region_source_ = "profile " + profile;
      return ResolveEndpoints();
    }
  }
  if (InstanceMetadata::DisabledBy(env_)) {
    return OnRegion(Error(ErrorCode::kInternal, "AWS_EC2_METADATA_DISABLED is true"));
  }
  region_imds_ =
      std::make_unique<InstanceMetadata>(*ctx_, InstanceMetadata::EndpointFrom(env_), aws_.imds_v1_fallback);
  region_imds_->Get("/latest/meta-data/placement/region", [this](Result<std::string> got) {
    if (!closed_) OnRegion(std::move(got));
  });
}

void AwsAccess::OnRegion(Result<std::string> answer) {
  if (answer && !answer->empty() && answer->find_first_of(" \r\n/") == std::string::npos) {
    region_ = *answer;
    region_source_ = "EC2 instance metadata";
    return ResolveEndpoints();
  }
  const std::string why = answer ? "an empty or malformed answer" : answer.error().message();
  Finish(
      Error(ErrorCode::kInvalidArgument,
            fmt::format("no AWS region: set aws.region in the config, AWS_REGION or AWS_DEFAULT_REGION, or "
                        "region in profile {}; the EC2 instance metadata service had none ({})",
                        ChosenProfile(aws_, env_).first, why)));
}

void AwsAccess::ResolveEndpoints() {
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
  if (wants_kinesis_) {
    if (Status s = endpoint("kinesis", aws_.kinesis_endpoint, kinesis_); !s) return Finish(s);
  }
  if (wants_firehose_) {
    if (Status s = endpoint("firehose", aws_.firehose_endpoint, firehose_); !s) return Finish(s);
  }
  if (Status s = endpoint("sts", aws_.sts_endpoint, sts_); !s) return Finish(s);
  ResolveCredentials();
}

void AwsAccess::ResolveCredentials() {
  const auto [profile, named] = ChosenProfile(aws_, env_);
  ChainSettings settings{*sts_, SessionName(), profile, named, aws_.imds_v1_fallback};
  search_ = FindCredentials(BuildCredentialChain(aws_, *ctx_, *files_, settings),
                            [this](Result<FoundCredentials> found) { OnCredentials(std::move(found)); });
}

std::string AwsAccess::SessionName() const {
  return aws_.role_session_name.empty() ? DefaultRoleSessionName(env_.hostname()) : aws_.role_session_name;
}

void AwsAccess::OnCredentials(Result<FoundCredentials> found) {
  if (!found) return Finish(found.error());
  provider_ = std::move(found->provider);
  for (const auto& failure : found->failures) {
    log_.warn("AWS credentials: {}; using {} instead", failure, provider_->name());
  }
  if (aws_.role_arn.empty()) {
    OnRole(std::move(found->credentials));
    return;
  }
  std::string name = fmt::format("role {} via {}", aws_.role_arn, provider_->name());
  provider_ = std::make_unique<AssumeRoleProvider>(
      *ctx_, std::move(name), std::move(provider_),
      AssumeRoleSettings{aws_.role_arn, SessionName(), aws_.external_id, 0}, *sts_);
  provider_->Fetch([this](Result<TimedCredentials> role) {
    if (closed_) return;
    if (!role) {
      provider_->Close();
      return Finish(Error(role.error().code(), "aws.role_arn: " + role.error().message()));
    }
    OnRole(std::move(role));
  });
}

void AwsAccess::OnRole(Result<TimedCredentials> first) {
  credentials_ =
      std::make_unique<RefreshingCredentials>(loop_, clock_, log_, std::move(provider_), std::move(*first));
  Finish(Status::Ok());
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
  // A resolution under way ends here: no callback of it reaches the caller, and a credential_process it
  // runs is killed.
  closed_ = true;
  resolved_ = nullptr;
  if (search_) search_->Cancel();
  if (provider_) provider_->Close();
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
