// ShardMapLoader: lists a stream's shards with paginated ListShards calls through the HTTP client and
// hands back a ShardMap, retrying throttling and transient failures after a backoff.
//
// Two parts. ShardListing is the decision logic of one load, with no I/O: which body to send next, and
// what one answer means (next page, retry after a backoff, start over, done, failed); the unit tests
// drive it with answers. ShardMapLoader sends what the listing asks for and waits out the backoffs on a
// libuv timer. Loop thread only; nothing blocks.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/aws/credential_source.h"
#include "agent/aws/endpoint.h"
#include "agent/core/clock.h"
#include "agent/core/result.h"
#include "agent/core/units.h"
#include "agent/kinesis/shard_map.h"
#include "agent/net/http_client.h"

namespace ferry::kinesis {

struct ShardMapLoaderOptions {
  // Failed calls one load retries before it gives up and reports the last error. ListShards has a
  // per-stream rate limit shared with every other caller (LimitExceededException; 1000 calls/s per
  // stream, AWS API reference), so a few spaced retries ride out a burst; a longer outage is left to
  // the caller's next refresh.
  std::uint32_t max_retries = 4;
  Duration backoff_base{200};  // ceiling of the first backoff, doubled per retry
  Duration backoff_cap{5000};
  // Each call's whole-request timeout: aws.request_timeout, as for PutRecords.
  std::uint32_t request_timeout_ms = 30000;
  // A peer that keeps answering with a NextToken would otherwise page forever. At the API's default
  // of 1000 shards a page (MaxResults is not sent), 100 pages are 100000 shards, beyond any stream.
  std::size_t max_pages = 100;
  // Called with the endpoint's time when it refused a signature for a skewed clock (corrected_clock.h);
  // the call is then retried, signed anew.
  std::function<void(std::int64_t server_unix_s)> correct_clock;
  // Called when the credentials were refused as expired, with the loop time the request was signed; the
  // listing is retried after a backoff.
  std::function<void(std::uint64_t signed_at_ms)> credentials_refused;
};

// One load's progress through the pages. Not thread-safe; pure logic, no I/O or clock.
class ShardListing {
 public:
  enum class Next {
    kSend,     // send RequestBody() now: the next page, or the first one again after a start over
    kBackoff,  // a call failed in a way worth retrying (see last_error()): wait
               // ListShardsBackoff(retries() - 1, ...), then send RequestBody()
    kDone,     // the map is ready: TakeMap()
    kFailed,   // the load is over: last_error() says why
  };

  // description names the stream and endpoint in errors, e.g. "Kinesis stream 'web' at https://...".
  ShardListing(std::string stream, std::string description, std::uint64_t generation,
               const ShardMapLoaderOptions& options);

  // The JSON body of the call to make now: the first page by StreamName, later ones by NextToken.
  std::string RequestBody() const;

  // Reads the answer to the call made from RequestBody():
  //  - a page with a NextToken: kSend for the next page (kFailed past max_pages or on a repeated token);
  //  - the last page: kDone if the open shards fit together. If not, the stream was resharded between
  //    pages (or, on one page, while ListShards was answering), so the listing starts over: kBackoff;
  //  - transport failures, HTTP 5xx, LimitExceededException, ResourceInUseException (stream not ACTIVE
  //    yet): kBackoff for the same call; ExpiredNextTokenException: kBackoff and start over;
  //  - a signature refused for a skewed clock, with a Date: correct_clock, then kBackoff;
  //  - every backoff counts against max_retries; past it, kFailed with that error;
  //  - the HTTP client aborting (it is closing), an untrusted TLS certificate, ResourceNotFoundException
  //    (kNotFound), other service errors (kRemote) and unreadable pages (kProtocol): kFailed. A service's
  //    message is cut to kMaxPeerMessageBytes (delivery/response_outcome.h).
  Next OnResponse(const net::HttpResponse& response);

  std::uint32_t retries() const { return retries_; }
  // When the request about to be answered was signed (loop ms), reported with a credentials refusal.
  void set_signed_at(std::uint64_t ms) { signed_at_ = ms; }
  const std::optional<Error>& last_error() const { return last_error_; }
  ShardMap TakeMap() { return std::move(map_); }

 private:
  Next Retry(Error error, bool start_over);
  Next Fail(Error error);

  std::string stream_;
  std::string description_;
  std::uint64_t generation_;
  std::uint32_t max_retries_;
  std::size_t max_pages_;
  std::function<void(std::int64_t)> correct_clock_;
  std::function<void(std::uint64_t)> credentials_refused_;
  std::uint64_t signed_at_ = 0;

  std::string next_token_;     // empty: the next call asks for the first page
  std::size_t pages_ = 0;      // pages read since the last start over
  std::vector<Shard> shards_;  // from those pages
  std::uint32_t retries_ = 0;
  std::optional<Error> last_error_;
  ShardMap map_;
};

// Delay before retry number `retry` (0 for the first): a random point in the upper half of
// min(cap, base * 2^retry). Never near zero, since throttling is what it mostly answers, yet spread
// so that agents throttled together do not come back together.
Duration ListShardsBackoff(std::uint32_t retry, const ShardMapLoaderOptions& options,
                           std::minstd_rand& random);

// Delay before the next load once `failed_loads` loads in a row have failed (1 after the first): a random
// point in the upper half of min(cap, 1 s * 2^(failed_loads - 1)), where cap is the periodic refresh
// interval but at most 30 s. A load already spent its own retries, so these start slower; yet a stream
// without a map (its packer sends raw records) gets one soon after ListShards works again, not at the
// next refresh.
Duration RelistDelay(std::uint32_t failed_loads, Duration refresh_every, std::minstd_rand& random);

class ShardMapLoader {
 public:
  // loop, http, log and clock must outlive the loader.
  ShardMapLoader(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http, std::string stream,
                 aws::ServiceEndpoint endpoint, aws::CredentialSource& credentials, const Clock& clock,
                 ShardMapLoaderOptions options = {});
  ShardMapLoader(const ShardMapLoader&) = delete;
  ShardMapLoader& operator=(const ShardMapLoader&) = delete;

  // Lists the shards and calls done once, from the loop, with the map or the error. Each load's map
  // has a larger generation than any before it. A Load while another is running joins it: done gets
  // that load's result. Not after Close().
  void Load(std::function<void(Result<ShardMap>)> done);
  bool loading() const { return listing_ != nullptr; }

  // Cancels a ListShards still out and closes the backoff timer; on_closed runs once both are done. A load
  // under way ends with an error first. The HTTP client goes on serving others.
  void Close(std::function<void()> on_closed);

 private:
  void Send();
  void OnResponse(const net::HttpResponse& response);
  void Finish(Result<ShardMap> result);
  void StepClosed();

  uv_loop_t* loop_;
  spdlog::logger& log_;
  net::HttpClient& http_;
  std::string stream_;
  aws::ServiceEndpoint endpoint_;
  aws::CredentialSource& credentials_;
  const Clock& clock_;
  ShardMapLoaderOptions options_;
  std::string description_;
  std::minstd_rand jitter_;

  std::uint64_t generation_ = 0;
  std::unique_ptr<ShardListing> listing_;  // the load running, if any
  std::vector<std::function<void(Result<ShardMap>)>> waiting_;
  uv_timer_t backoff_timer_{};
  std::function<void()> on_closed_;
  net::HttpClient::RequestId out_ = 0;  // the ListShards request out, if any
  bool closing_ = false;
  int steps_left_ = 0;  // what Close waits for: the timer, and the request out
};

}  // namespace ferry::kinesis
