// ShardMapLoader: ShardListing decides, the loader sends and waits. Errors carry the stream and the
// endpoint so a log line alone says which listing failed.
#include "agent/kinesis/shard_map_loader.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "agent/aws/json_request.h"
#include "agent/core/corrected_clock.h"
#include "agent/core/peer_text.h"
#include "agent/core/uv_handle.h"
#include "agent/delivery/error_class.h"
#include "agent/delivery/response_outcome.h"
#include "agent/kinesis/list_shards_codec.h"
#include "agent/kinesis/put_records_codec.h"

namespace ferry::kinesis {
namespace {

// What the HTTP client reports for transfers it cancelled or refused while closing (http_client.h):
// the agent is shutting down, so waiting to retry would only hold the shutdown up.
bool ClientClosing(const net::HttpResponse& response) {
  return response.transport_error == "aborted" || response.transport_error == "client closed";
}

// Service errors that pass: throttling, and a stream still being created or resharded.
bool TransientServiceError(int status, std::string_view type) {
  return status >= 500 || type == "LimitExceededException" || type == "ResourceInUseException";
}

}  // namespace

ShardListing::ShardListing(std::string stream, std::string description, std::uint64_t generation,
                           const ShardMapLoaderOptions& options)
    : stream_(std::move(stream)),
      description_(std::move(description)),
      generation_(generation),
      max_retries_(options.max_retries),
      max_pages_(options.max_pages),
      correct_clock_(options.correct_clock),
      credentials_refused_(options.credentials_refused) {}

std::string ShardListing::RequestBody() const {
  return next_token_.empty() ? EncodeListShardsFirst(stream_) : EncodeListShardsNext(next_token_);
}

ShardListing::Next ShardListing::OnResponse(const net::HttpResponse& response) {
  if (!response.transport_ok()) {
    Error error(ErrorCode::kNetwork,
                fmt::format("ListShards for {}: {}", description_, response.transport_error));
    // An untrusted certificate will not verify on a retry either: only an operator can fix it.
    if (response.failure == net::TransportFailure::kUntrustedPeer) {
      return Fail(Error(ErrorCode::kRefused, error.message()));
    }
    return ClientClosing(response) ? Fail(std::move(error)) : Retry(std::move(error), false);
  }
  if (response.status != 200) {
    ServiceError service = DecodeServiceError(response.status, response.body);
    // DecodeServiceError names a body without a JSON error "HTTP <status>"; say the status once.
    std::string what =
        service.type.starts_with("HTTP ")
            ? fmt::format("ListShards for {}: {}", description_, service.type)
            : fmt::format("ListShards for {}: HTTP {} {}", description_, response.status, service.type);
    if (!service.message.empty()) what += ": " + CutPeerText(service.message, kMaxPeerMessageBytes);
    if (TransientServiceError(response.status, service.type))
      return Retry(Error(ErrorCode::kRemote, what), false);
    const std::string* date = response.header("date");
    auto server_time = date != nullptr ? ParseHttpDate(*date) : std::nullopt;
    if (correct_clock_ && server_time &&
        ClassifyError(service.type, response.status, service.message) == ErrorClass::kSkew) {
      correct_clock_(*server_time);
      return Retry(Error(ErrorCode::kRemote, what + " (the clock is corrected from the answer's Date)"),
                   false);
    }
    if (credentials_refused_ &&
        ClassifyError(service.type, response.status, service.message) == ErrorClass::kCredentials) {
      credentials_refused_(signed_at_);
      return Retry(Error(ErrorCode::kRemote, what + " (fresh credentials are being fetched)"), false);
    }
    // The token outlived its 300 seconds (API reference), e.g. after long backoffs: list again from the top.
    if (service.type == "ExpiredNextTokenException") return Retry(Error(ErrorCode::kRemote, what), true);
    if (service.type == "ResourceNotFoundException") return Fail(Error(ErrorCode::kNotFound, what));
    if (ClassifyError(service.type, response.status, service.message) == ErrorClass::kOperator) {
      return Fail(Error(ErrorCode::kRefused, what));
    }
    return Fail(Error(ErrorCode::kRemote, what));
  }

  auto page = DecodeListShardsResponse(response.body);
  if (!page) {
    return Fail(
        Error(ErrorCode::kProtocol, fmt::format("{} (from {})", page.error().message(), description_)));
  }
  ++pages_;
  std::move(page->shards.begin(), page->shards.end(), std::back_inserter(shards_));
  if (!page->next_token.empty()) {
    if (page->next_token == next_token_) {
      return Fail(Error(ErrorCode::kProtocol,
                        fmt::format("ListShards for {}: page {} repeats the NextToken it was asked with",
                                    description_, pages_)));
    }
    if (pages_ >= max_pages_) {
      return Fail(
          Error(ErrorCode::kProtocol,
                fmt::format("ListShards for {}: still more shards after {} pages", description_, pages_)));
    }
    next_token_ = std::move(page->next_token);
    return Next::kSend;
  }

  auto map = ShardMap::Build(std::move(shards_), generation_);
  shards_.clear();
  if (!map) {
    return Retry(Error(ErrorCode::kProtocol,
                       fmt::format("ListShards for {}: {}", description_, map.error().message())),
                 true);
  }
  map_ = std::move(*map);
  last_error_.reset();
  return Next::kDone;
}

ShardListing::Next ShardListing::Retry(Error error, bool start_over) {
  if (retries_ >= max_retries_) {
    return Fail(Error(error.code(), fmt::format("{} (gave up after {} retries)", error.message(), retries_)));
  }
  ++retries_;
  if (start_over) {
    next_token_.clear();
    pages_ = 0;
    shards_.clear();
  }
  last_error_ = std::move(error);
  return Next::kBackoff;
}

ShardListing::Next ShardListing::Fail(Error error) {
  last_error_ = std::move(error);
  return Next::kFailed;
}

Duration ListShardsBackoff(std::uint32_t retry, const ShardMapLoaderOptions& options,
                           std::minstd_rand& random) {
  auto base = static_cast<std::uint64_t>(std::max<Duration::rep>(options.backoff_base.count(), 1));
  auto cap = static_cast<std::uint64_t>(std::max<Duration::rep>(options.backoff_cap.count(), 1));
  std::uint64_t ceiling = retry >= 32 ? cap : std::min(cap, base << retry);
  std::uint64_t half = ceiling / 2;
  return Duration(half + std::uniform_int_distribution<std::uint64_t>(0, ceiling - half)(random));
}

Duration RelistDelay(std::uint32_t failed_loads, Duration refresh_every, std::minstd_rand& random) {
  constexpr Duration kFirst{1000};
  constexpr Duration kMaxCap{30000};
  ShardMapLoaderOptions pacing;
  pacing.backoff_base = kFirst;
  pacing.backoff_cap = std::max(std::min(refresh_every, kMaxCap), kFirst);
  return ListShardsBackoff(failed_loads == 0 ? 0 : failed_loads - 1, pacing, random);
}

ShardMapLoader::ShardMapLoader(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http,
                               std::string stream, aws::ServiceEndpoint endpoint,
                               aws::CredentialSource& credentials, const Clock& clock,
                               ShardMapLoaderOptions options)
    : loop_(loop),
      log_(log),
      http_(http),
      stream_(std::move(stream)),
      endpoint_(std::move(endpoint)),
      credentials_(credentials),
      clock_(clock),
      options_(options),
      description_(fmt::format("Kinesis stream '{}' at {}", stream_, endpoint_.url)),
      jitter_(std::random_device{}()) {
  uv_timer_init(loop_, &backoff_timer_);
  backoff_timer_.data = this;
}

void ShardMapLoader::Load(std::function<void(Result<ShardMap>)> done) {
  waiting_.push_back(std::move(done));
  if (listing_) return;
  listing_ = std::make_unique<ShardListing>(stream_, description_, ++generation_, options_);
  Send();
}

void ShardMapLoader::Send() {
  net::HttpRequest request = aws::BuildJsonRequest(kListShardsTarget, listing_->RequestBody(), endpoint_,
                                                   credentials_.current(), clock_.UnixSeconds());
  listing_->set_signed_at(uv_now(loop_));
  request.timeout_ms = options_.request_timeout_ms;
  out_ = http_.Send(std::move(request), [this](net::HttpResponse&& response) {
    out_ = 0;
    if (closing_) {
      StepClosed();
      return;
    }
    OnResponse(response);
  });
}

void ShardMapLoader::OnResponse(const net::HttpResponse& response) {
  switch (listing_->OnResponse(response)) {
    case ShardListing::Next::kSend:
      Send();
      return;
    case ShardListing::Next::kBackoff: {
      Duration delay = ListShardsBackoff(listing_->retries() - 1, options_, jitter_);
      log_.warn("{}; retrying in {} ms (retry {} of {})", listing_->last_error()->message(), delay.count(),
                listing_->retries(), options_.max_retries);
      uv_timer_start(
          &backoff_timer_, [](uv_timer_t* t) { static_cast<ShardMapLoader*>(t->data)->Send(); },
          static_cast<std::uint64_t>(delay.count()), 0);
      return;
    }
    case ShardListing::Next::kDone:
      Finish(listing_->TakeMap());
      return;
    case ShardListing::Next::kFailed:
      Finish(*listing_->last_error());
      return;
  }
}

void ShardMapLoader::Finish(Result<ShardMap> result) {
  listing_.reset();
  // Callbacks may call Load again, which starts a new listing with a new list of waiters.
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (std::size_t i = 0; i + 1 < waiting.size(); ++i) waiting[i](result);
  if (!waiting.empty()) waiting.back()(std::move(result));
}

void ShardMapLoader::Close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  closing_ = true;
  // The timer, and a ListShards still out: cancelled, its callback comes later with "aborted", so the
  // loader closes while the shared HTTP client goes on serving others.
  steps_left_ = 1 + (out_ != 0 ? 1 : 0);
  if (out_ != 0) http_.Cancel(out_);
  if (listing_) {
    Finish(Error(ErrorCode::kInternal, fmt::format("ListShards for {}: loader closed", description_)));
  }
  CloseHandle(&backoff_timer_, [this] { StepClosed(); });
}

void ShardMapLoader::StepClosed() {
  if (--steps_left_ == 0 && on_closed_) on_closed_();
}

}  // namespace ferry::kinesis
