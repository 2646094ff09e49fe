// Credential chain: which providers are set up is decided from the config, the environment and the profile
// files alone; only the search itself talks to services.
#include "agent/aws/credential_chain.h"

#include <fmt/format.h>

#include "agent/aws/container_provider.h"
#include "agent/aws/instance_metadata.h"
#include "agent/aws/web_identity_provider.h"

namespace ferry::aws {
namespace {

ChainLink Skipped(std::string name, std::string why) {
  return ChainLink{std::move(name), nullptr, std::move(why), false};
}

ChainLink Broken(std::string name, std::string why) {
  return ChainLink{std::move(name), nullptr, std::move(why), true};
}

ChainLink Link(std::unique_ptr<CredentialProvider> provider) {
  std::string name = provider->name();
  return ChainLink{std::move(name), std::move(provider), "", false};
}

ChainLink EnvironmentLink(const Environment& env) {
  auto id = env.Get("AWS_ACCESS_KEY_ID");
  auto secret = env.Get("AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    return Link(std::make_unique<StaticProvider>(
        "environment", Credentials{*id, *secret, env.Get("AWS_SESSION_TOKEN").value_or("")}));
  }
  return Skipped("environment", !id && !secret ? "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"
                                : !id          ? "AWS_ACCESS_KEY_ID is not set"
                                               : "AWS_SECRET_ACCESS_KEY is not set");
}

ChainLink WebIdentityLink(const ProviderContext& ctx, const ChainSettings& settings) {
  auto token_file = ctx.env.Get("AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!token_file) return Skipped("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE is not set");
  auto role_arn = ctx.env.Get("AWS_ROLE_ARN");
  if (!role_arn) return Broken("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
  return Link(std::make_unique<WebIdentityProvider>(
      ctx, "web identity", *token_file, *role_arn,
      ctx.env.Get("AWS_ROLE_SESSION_NAME").value_or(settings.session_name), settings.sts));
}

ChainLink ProfileLink(const ProviderContext& ctx, const ProfileFiles& files, const ChainSettings& settings) {
  const std::string name = "profile " + settings.profile;
  if (!files.Profile(settings.profile)) {
    return (settings.profile_named ? Broken : Skipped)(
        name, fmt::format("{} and {} have no such profile",
                          files.config_path.empty() ? "(no HOME)" : files.config_path,
                          files.credentials_path.empty() ? "(no HOME)" : files.credentials_path));
  }
  auto provider = ProviderForProfile(
      ProfileContext{ctx, files, settings.sts, settings.session_name, settings.imds_v1_fallback},
      settings.profile);
  if (!provider) return Broken(name, provider.error().message());
  return ChainLink{name, std::move(*provider), "", false};
}

ChainLink ContainerLink(const ProviderContext& ctx) {
  std::string why;
  auto provider = ContainerProvider::FromEnvironment(ctx, &why);
  if (!provider) return Broken("ECS container", provider.error().message());
  if (!*provider) return Skipped("ECS container", why);
  return Link(std::move(*provider));
}

// The search: one link after another, each failure remembered for the final error.
struct Search final : CredentialSearch, std::enable_shared_from_this<Search> {
  std::vector<ChainLink> chain;
  std::function<void(Result<FoundCredentials>)> done;
  bool cancelled = false;
  std::size_t next = 0;
  std::vector<std::string> tried;     // "name (why)" for every link, for the error
  std::vector<std::string> failures;  // set-up providers that failed

  void Step() {
    while (next < chain.size() && !chain[next].provider) {
      tried.push_back(fmt::format("{} ({})", chain[next].name, chain[next].skipped));
      if (chain[next].broken)
        failures.push_back(fmt::format("{}: {}", chain[next].name, chain[next].skipped));
      ++next;
    }
    if (next == chain.size()) {
      done(Error(ErrorCode::kNotFound,
                 fmt::format("no AWS credentials found; tried: {}", fmt::join(tried, ", "))));
      return;
    }
    ChainLink& link = chain[next];
    link.provider->Fetch([self = shared_from_this()](Result<TimedCredentials> got) {
      if (self->cancelled) return;
      ChainLink& link = self->chain[self->next];
      if (got) {
        self->done(FoundCredentials{std::move(link.provider), std::move(*got), std::move(self->failures)});
        return;
      }
      self->tried.push_back(fmt::format("{} ({})", link.name, got.error().message()));
      self->failures.push_back(fmt::format("{}: {}", link.name, got.error().message()));
      // Kept alive until the search ends: a provider may still be finishing its own clean-up.
      ++self->next;
      self->Step();
    });
  }

  void Cancel() override {
    if (cancelled) return;
    cancelled = true;  // done may be running now (its caller closing everything): it stays, unused
    if (next < chain.size() && chain[next].provider) chain[next].provider->Close();
  }
};

}  // namespace

std::pair<std::string, bool> ChosenProfile(const AwsOptions& aws, const Environment& env) {
  if (!aws.profile.empty()) return {aws.profile, true};
  if (auto name = env.Get("AWS_PROFILE")) return {*name, true};
  return {"default", false};
}

std::vector<ChainLink> BuildCredentialChain(const AwsOptions& aws, const ProviderContext& ctx,
                                            const ProfileFiles& files, const ChainSettings& settings) {
  std::vector<ChainLink> chain;
  if (!aws.access_key_id.empty()) {
    chain.push_back(Link(std::make_unique<StaticProvider>(
        "config", Credentials{aws.access_key_id, aws.secret_access_key, aws.session_token})));
  } else {
    chain.push_back(Skipped("config", "aws.access_key_id is not set"));
  }
  chain.push_back(EnvironmentLink(ctx.env));
  chain.push_back(WebIdentityLink(ctx, settings));
  chain.push_back(ProfileLink(ctx, files, settings));
  chain.push_back(ContainerLink(ctx));
  if (InstanceMetadata::DisabledBy(ctx.env)) {
    chain.push_back(Skipped("EC2 instance metadata", "AWS_EC2_METADATA_DISABLED is true"));
  } else {
    chain.push_back(Link(std::make_unique<InstanceMetadataProvider>(
        ctx, InstanceMetadata::EndpointFrom(ctx.env), settings.imds_v1_fallback)));
  }
  return chain;
}

std::shared_ptr<CredentialSearch> FindCredentials(std::vector<ChainLink> chain,
                                                  std::function<void(Result<FoundCredentials>)> done) {
  auto search = std::make_shared<Search>();
  search->chain = std::move(chain);
  search->done = std::move(done);
  search->Step();
  return search;
}

}  // namespace ferry::aws
