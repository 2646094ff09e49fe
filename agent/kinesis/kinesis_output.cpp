// KinesisOutput: the Kinesis stages of a flow, its shard map, and their ordered shutdown.
#include "agent/kinesis/kinesis_output.h"

#include <algorithm>

#include <fmt/format.h>

#include "agent/core/callback_join.h"
#include "agent/core/uv_handle.h"
#include "agent/delivery/billing_units.h"
#include "agent/kinesis/partition_keys.h"
#include "agent/kinesis/shard_rate_limiter.h"
#include "agent/kinesis/stream_destination.h"

namespace ferry::kinesis {
namespace {

// With a rate limit, a request holds at most one second of any shard's allowance.
RequestLimits RequestLimitsFor(const StreamOptions& k) {
  RequestLimits limits;
  // A stream whose MaxRecordSize was raised takes PutRecords requests of up to 10 MiB.
  if (k.max_record_size > kMaxRecordBytes) limits.max_bytes = kMaxLargeRequestBytes;
  if (k.rate_limit > 0) {
    limits.max_lane_bytes = ShardRateLimiter::kShardBytesPerSecond * k.rate_limit / 100;
    limits.max_lane_records =
        std::max<std::uint64_t>(ShardRateLimiter::kShardRecordsPerSecond * k.rate_limit / 100, 1);
  }
  return limits;
}

ShardMapLoaderOptions LoaderOptionsFor(const SenderOptions& sender) {
  ShardMapLoaderOptions options;
  options.request_timeout_ms = sender.request_timeout_ms;
  options.correct_clock = sender.correct_clock;
  options.credentials_refused = sender.credentials_refused;
  return options;
}

SenderOptions SenderOptionsFor(SenderOptions options, SendGate* gate) {
  options.gate = gate;
  options.billing = &KinesisPayloadUnits;
  return options;
}
}  // namespace

Result<KinesisOutput::Parts> KinesisOutput::Prepare(const StreamOptions& k, const std::string& flow,
                                                    const std::string& hostname) {
  PartitionKeySpec spec;
  static_cast<PartitionKeyOptions&>(spec) = k.partition_key;
  spec.explicit_hash_key = k.explicit_hash_key;
  auto keys = PartitionKeyPolicy::Create(spec, KeyContext{hostname, flow});
  if (!keys) return Error(ErrorCode::kInvalidArgument, "partition_key: " + keys.error().message());

  // A record and its partition key must fit the Kinesis record limit together, after compression.
  const Compression compression = k.compression;
  const std::size_t key_room = k.partition_key.kind == PartitionKeyOptions::Kind::kRandom
                                   ? RandomPartitionKeys::kKeyBytes
                                   : PartitionKeyPolicy::kMaxKeyBytes;
  PackingOptions packing;
  packing.aggregate = k.aggregate;
  packing.limits.max_bytes =
      std::min<std::size_t>(k.aggregate_max_bytes, LargestCompressibleInput(compression, kMaxRecordBytes));
  packing.limits.max_records = k.aggregate_max_records;
  // Half of max_age in the aggregators and half in the request collector: a record waits at most max_age.
  packing.max_age = Duration(std::max<Duration::rep>(k.max_age.count() / 2, 1));
  packing.record_newline = k.record_newline;
  // The newline is part of the record that is compressed and sent, so a record is one byte shorter.
  const std::size_t newline = k.record_newline ? 1 : 0;
  return Parts{std::move(*keys), packing,
               LargestCompressibleInput(compression, static_cast<std::size_t>(k.max_record_size) - key_room) -
                   newline};
}

Protocol KinesisOutput::ChooseProtocol(StreamOptions::Protocol protocol,
                                       const aws::ServiceEndpoint& endpoint) {
  using P = StreamOptions::Protocol;
  if (protocol != P::kAuto) return protocol == P::kCbor ? Protocol::kCbor : Protocol::kJson;
  std::string_view host = endpoint.host;
  host = host.substr(0, host.find(':'));  // without the port
  const bool aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
  return aws && endpoint.url.starts_with("https://") ? Protocol::kCbor : Protocol::kJson;
}

KinesisOutput::KinesisOutput(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http,
                             MemoryBudget& budget, const Clock& clock, const std::string& flow,
                             const StreamOptions& k, Parts parts, aws::ServiceEndpoint endpoint,
                             aws::CredentialSource& credentials, SenderOptions sender, Safekeeping keep)
    : flow_(flow),
      log_(log),
      loop_(loop),
      shards_(loop, log, http, k.stream, endpoint, credentials, clock, LoaderOptionsFor(sender)),
      refresh_every_(k.shard_map_refresh),
      slow_retry_(sender.slow_retry),
      aggregate_(k.aggregate),
      jitter_(std::random_device{}()),
      admission_(static_cast<std::uint32_t>(k.rate_limit),
                 k.one_request_per_shard),  // 0..100 (config checks)
      path_(loop, log, http,
            std::make_unique<StreamDestination>(k.stream, endpoint, credentials, clock,
                                                ChooseProtocol(k.protocol, endpoint)),
            k.compression, RequestLimitsFor(k),
            Duration(std::max<Duration::rep>(k.max_age.count() - parts.packing.max_age.count(), 1)),
            SenderOptionsFor(sender, &admission_), std::move(keep)),
      packer_(loop, path_.collector(), std::move(parts.keys), parts.packing, &budget) {
  uv_timer_init(loop_, &refresh_timer_);
  refresh_timer_.data = this;
  path_.sender().set_on_other_lane([this](WireRecord&& record, const std::string& shard) {
    ++wrong_shard_;
    if (!shards_.loading()) {
      log_.warn(
          "flow {}: a record predicted for {} was stored on {}: the stream was resharded; listing its "
          "shards again",
          flow_, record.lane, shard);
      RefreshShardMap();
    }
    packer_.Redirected(std::move(record));
  });
}

void KinesisOutput::Start() {
  if (!aggregate_) return;
  // Reading starts now (output.h); what is read before the first listing ends waits for it, so a backlog
  // is aggregated from its first line. The listing's retries and aws.request_timeout bound that wait.
  packer_.WaitForShardMap();
  RefreshShardMap();
  ScheduleRefresh(refresh_every_);
}

void KinesisOutput::ScheduleRefresh(Duration delay) {
  const auto every = static_cast<std::uint64_t>(std::max<Duration::rep>(refresh_every_.count(), 1000));
  uv_timer_start(
      &refresh_timer_, [](uv_timer_t* t) { static_cast<KinesisOutput*>(t->data)->RefreshShardMap(); },
      static_cast<std::uint64_t>(std::max<Duration::rep>(delay.count(), 0)), every);
}

void KinesisOutput::RefreshShardMap() {
  if (shards_.loading()) return;
  shards_.Load([this](Result<ShardMap> map) { OnListed(std::move(map)); });
}

void KinesisOutput::OnListed(Result<ShardMap> map) {
  if (stopped_) return;
  if (map) {
    if (failed_loads_ > 0) ScheduleRefresh(refresh_every_);  // back to the regular pace
    failed_loads_ = 0;
    UseShardMap(std::move(*map));
    return;
  }
  ++failed_loads_;
  Duration delay = RelistDelay(failed_loads_, refresh_every_, jitter_);
  // A missing stream, denied access or an untrusted certificate waits for an operator: listing again soon
  // would only fill the log (the sender retries such errors at the same pace).
  const ErrorCode code = map.error().code();
  if (code == ErrorCode::kRefused || code == ErrorCode::kNotFound) delay = std::max(delay, slow_retry_);
  const bool mapped = packer_.shard_map() != nullptr && !packer_.shard_map()->open_shards().empty();
  if (packer_.waiting()) {
    log_.warn(
        "flow {}: cannot list the stream's shards ({}); the {} records read meanwhile go unaggregated, "
        "and so does what follows until a listing works; listing again in {} ms",
        flow_, map.error().message(), packer_.held_records(), delay.count());
  } else {
    log_.warn("flow {}: cannot list the stream's shards ({}); {}; listing again in {} ms", flow_,
              map.error().message(),
              mapped ? "records are packed by the last shard map" : "records go unaggregated until it works",
              delay.count());
  }
  packer_.StopWaiting();
  ScheduleRefresh(delay);
}

void KinesisOutput::UseShardMap(ShardMap map) {
  const ShardMap* old = packer_.shard_map();
  bool same = old != nullptr && old->open_shards().size() == map.open_shards().size() &&
              std::equal(old->open_shards().begin(), old->open_shards().end(), map.open_shards().begin(),
                         [](const Shard& a, const Shard& b) {
                           return a.id == b.id && a.start == b.start && a.end == b.end;
                         });
  if (same) return;
  log_.info("flow {}: {} open shards; aggregating records per shard", flow_, map.open_shards().size());
  packer_.SetShardMap(std::make_shared<const ShardMap>(std::move(map)));
}

void KinesisOutput::Drain(Duration timeout, std::function<void(std::size_t)> on_drained) {
  uv_timer_stop(&refresh_timer_);
  stopped_ = true;     // a listing still under way must not start the timer again
  packer_.FlushNow();  // what waits for the first listing goes raw
  path_.Drain(timeout, std::move(on_drained));
}

void KinesisOutput::Close(std::function<void()> on_closed) {
  stopped_ = true;
  auto closed = JoinCallbacks(4, std::move(on_closed));
  CloseHandle(&refresh_timer_, closed);
  shards_.Close(closed);
  packer_.Close(closed);
  path_.Close(closed);
}

std::string KinesisOutput::Summary() const {
  const SenderCounters& s = path_.sender().counters();
  return fmt::format("records sent {} (in {} Kinesis records, {} aggregated), {}", s.user_records_sent,
                     s.records_sent, packer_.counters().aggregates, path_.Summary());
}

void KinesisOutput::AppendCounters(std::vector<Counter>& out) const {
  const PackerCounters& p = packer_.counters();
  const SenderCounters& s = path_.sender().counters();
  out.insert(out.end(), {
                            {"kinesis_records", p.aggregates + p.raw_records},
                            {"aggregates", p.aggregates},
                            {"aggregated_records", p.aggregated_records},
                            {"wrong_shard", wrong_shard_},
                            {"resent_records", p.resent_records},
                            {"user_bytes", p.user_bytes},
                            {"kinesis_bytes", p.kinesis_bytes},
                            {"kinesis_records_sent", s.records_sent},
                            {"put_payload_units", s.billed_units},
                            {"put_payload_units_unaggregated", s.billed_units_unaggregated},
                            {"throttle_waits", s.throttle_waits},
                            {"throttle_wait_ms", s.throttle_wait_ms},
                            {"shard_waits", s.lane_waits},
                        });
  path_.AppendCounters(out);
}

}  // namespace ferry::kinesis
