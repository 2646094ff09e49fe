// Flow: construction of the stage chain and its ordered shutdown.
#include "agent/pipeline/flow.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "agent/kinesis/partition_keys.h"

namespace ferry {
Result<Flow::Parts> Flow::Prepare(const config::FlowOptions& options, const std::string& state_dir,
                                  Duration checkpoint_interval, const std::string& hostname) {
  std::string where = fmt::format("flows '{}'", options.name);
  auto discovery = Discovery::Create({options.files, options.exclude, options.exclude_compressed});
  if (!discovery) return Error(ErrorCode::kInvalidArgument, where + ": " + discovery.error().message());

  const config::KinesisOptions& k = *options.kinesis;
  kinesis::PartitionKeySpec spec;
  spec.kind = static_cast<kinesis::PartitionKeySpec::Kind>(k.partition_key.kind);
  spec.text = k.partition_key.text;
  spec.fallback = k.partition_key.fallback;
  spec.explicit_hash_key = k.explicit_hash_key;
  auto keys = kinesis::PartitionKeyPolicy::Create(spec, kinesis::KeyContext{hostname, options.name});
  if (!keys) return Error(ErrorCode::kInvalidArgument, where + ": partition_key: " + keys.error().message());
  kinesis::PackingOptions packing;
  packing.aggregate = k.aggregate;
  packing.limits.max_bytes = k.aggregate_max_bytes;
  packing.limits.max_records = k.aggregate_max_records;
  // Half of max_age in the aggregators and half in the request collector: a record waits at most max_age.
  packing.max_age = Duration(std::max<Duration::rep>(k.max_age.count() / 2, 1));

  FramerOptions framing;
  // A record and its partition key must fit the Kinesis record limit together.
  const std::size_t key_room = k.partition_key.kind == config::PartitionKeyOptions::Kind::kRandom
                                   ? kinesis::RandomPartitionKeys::kKeyBytes
                                   : kinesis::PartitionKeyPolicy::kMaxKeyBytes;
  framing.max_record_bytes =
      std::min<std::size_t>(options.max_record_bytes, kinesis::kMaxRecordBytes - key_room);
  framing.oversize = options.oversize == config::Oversize::kSplit ? Oversize::kSplit : Oversize::kTruncate;
  framing.skip_header_lines = options.skip_header_lines;
  if (options.multiline) framing.multiline_start = options.multiline->start;
  auto framer = RecordFramer::Create(framing);
  if (!framer) return Error(ErrorCode::kInvalidArgument, where + ": " + framer.error().message());

  TailerOptions t;
  t.flow = options.name;
  t.start_at = options.start_at;
  t.max_open_files = options.max_open_files;
  t.partial_line_timeout = options.partial_line_timeout;
  if (options.multiline) t.multiline_timeout = options.multiline->timeout;
  t.close_inactive = options.close_inactive;
  t.scan_interval = options.scan_interval;
  t.checkpoint_interval = checkpoint_interval;
  t.checkpoint_path = CheckpointPath(state_dir, options.name);
  return Parts{std::move(t), std::move(*discovery), std::move(*framer), std::move(*keys), packing};
}

Flow::Flow(const FlowContext& ctx, const config::FlowOptions& options, Parts parts,
           aws::ServiceEndpoint endpoint, aws::Credentials credentials)
    : name_(options.name),
      log_(ctx.log),
      loop_(ctx.loop),
      shards_(ctx.loop, ctx.log, ctx.http, options.kinesis->stream, endpoint, credentials, ctx.clock),
      refresh_every_(options.kinesis->shard_map_refresh),
      aggregate_(options.kinesis->aggregate),
      destination_(options.kinesis->stream, std::move(endpoint), std::move(credentials), ctx.clock),
      sender_(ctx.loop, ctx.log, ctx.http, destination_, SenderOptions{}),
      collector_(ctx.loop, RequestLimits{},
                 Duration(std::max<Duration::rep>(
                     options.kinesis->max_age.count() - parts.packing.max_age.count(), 1)),
                 [this](std::vector<WireRecord>&& records) { sender_.Submit(std::move(records)); }),
      packer_(ctx.loop, collector_, std::move(parts.keys), parts.packing, &ctx.budget),
      chain_(packer_),
      tailer_(ctx.loop, ctx.log, ctx.clock, std::move(parts.tailer), std::move(parts.discovery),
              std::move(parts.framer), ctx.budget, ctx.acks, chain_) {
  sender_.set_on_wrong_shard([this](WireRecord&& record, const std::string& shard) {
    if (!shards_.loading()) {
      log_.warn(
          "flow {}: an aggregate predicted for {} was stored on {}: the stream was resharded; listing its "
          "shards again",
          name_, record.predicted_shard, shard);
      RefreshShardMap();
    }
    packer_.Redirected(std::move(record));
  });
}

void Flow::Start() {
  uv_timer_init(loop_, &refresh_timer_);
  refresh_timer_.data = this;
  if (!aggregate_) {
    StartReading();
    return;
  }
  // The first listing comes before the first read, so a backlog is aggregated from its first line; if
  // it fails, reading starts anyway (records go raw until a later listing works).
  RefreshShardMap();
  auto every = static_cast<std::uint64_t>(std::max<Duration::rep>(refresh_every_.count(), 1000));
  uv_timer_start(
      &refresh_timer_, [](uv_timer_t* t) { static_cast<Flow*>(t->data)->RefreshShardMap(); }, every, every);
}

void Flow::StartReading() {
  if (reading_ || draining_) return;
  reading_ = true;
  tailer_.Start();
}

void Flow::RefreshShardMap() {
  if (shards_.loading()) return;
  shards_.Load([this](Result<kinesis::ShardMap> map) {
    if (map) {
      UseShardMap(std::move(*map));
    } else {
      log_.warn("flow {}: cannot list the stream's shards ({}); records go unaggregated until it works",
                name_, map.error().message());
    }
    StartReading();
  });
}

void Flow::UseShardMap(kinesis::ShardMap map) {
  const kinesis::ShardMap* old = packer_.shard_map();
  bool same = old != nullptr && old->open_shards().size() == map.open_shards().size() &&
              std::equal(old->open_shards().begin(), old->open_shards().end(), map.open_shards().begin(),
                         [](const kinesis::Shard& a, const kinesis::Shard& b) {
                           return a.id == b.id && a.start == b.start && a.end == b.end;
                         });
  if (same) return;
  log_.info("flow {}: {} open shards; aggregating records per shard", name_, map.open_shards().size());
  packer_.SetShardMap(std::make_shared<const kinesis::ShardMap>(std::move(map)));
}

void Flow::Drain(Duration timeout, std::function<void(std::size_t)> on_drained) {
  uv_timer_stop(&refresh_timer_);
  draining_ = true;
  tailer_.Stop([] {});
  packer_.FlushNow();
  collector_.FlushNow();
  sender_.Drain(timeout, [this, on_drained = std::move(on_drained)](std::size_t undelivered) {
    if (reading_) tailer_.SaveCheckpoints();  // after the last acknowledgements are in
    on_drained(undelivered);
  });
}

void Flow::Close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  closing_ = 5;
  auto closed = [this] {
    if (--closing_ == 0 && on_closed_) on_closed_();
  };
  refresh_timer_.data = new std::function<void()>(closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&refresh_timer_), [](uv_handle_t* h) {
    std::unique_ptr<std::function<void()>> done(static_cast<std::function<void()>*>(h->data));
    (*done)();
  });
  shards_.Close(closed);
  packer_.Close(closed);
  collector_.Close(closed);
  sender_.Close(closed);
}

std::string Flow::Summary() const {
  const TailerCounters& t = tailer_.counters();
  const SenderCounters& s = sender_.counters();
  return fmt::format(
      "flow {}: files open {}, bytes read {}, records read {} (split {}, empty lines {}), records sent {} "
      "(in {} Kinesis records, {} aggregated), requests {}, Kinesis records retried {}, failed requests {}, "
      "unsent {}",
      name_, tailer_.open_files(), t.files.bytes_read, t.framing.records, t.framing.split_records,
      t.framing.empty_lines, s.user_records_sent, s.records_sent, packer_.counters().aggregates, s.requests,
      s.records_retried, s.request_failures, sender_.unsent_user_records());
}

std::vector<std::pair<std::string_view, std::uint64_t>> Flow::Counters() const {
  const TailerCounters& t = tailer_.counters();
  const FileFigures& f = t.files;
  const SenderCounters& s = sender_.counters();
  const kinesis::PackerCounters& p = packer_.counters();
  std::uint64_t behind = 0;
  for (const auto& file : tailer_.Files()) behind += file.bytes_behind();
  return {
      {"files_open", tailer_.open_files()},
      {"files_known", tailer_.known_files()},
      {"bytes_read", f.bytes_read},
      {"bytes_behind", behind},
      {"records_read", f.records},
      {"kinesis_records", p.aggregates + p.raw_records},
      {"aggregates", p.aggregates},
      {"aggregated_records", p.aggregated_records},
      {"wrong_shard", s.wrong_shard},
      {"resent_records", p.resent_records},
      {"user_bytes", p.user_bytes},
      {"kinesis_bytes", p.kinesis_bytes},
      {"records_sent", s.user_records_sent},
      {"records_unsent", sender_.unsent_user_records()},
      {"kinesis_records_sent", s.records_sent},
      {"requests", s.requests},
      {"request_failures", s.request_failures},
      {"records_retried", s.records_retried},
      {"payload_bytes", s.payload_bytes},
      {"oversize_records", f.oversize_records},
      {"truncated_bytes", t.framing.truncated_bytes},
      {"empty_lines", t.framing.empty_lines},
      {"header_lines", t.framing.header_lines},
      {"multiline_records", t.framing.multiline_records},
      {"partial_flushes", t.partial_flushes},
      {"nul_records", f.nul_records},
      {"invalid_utf8_records", f.invalid_utf8_records},
      {"hole_bytes_skipped", f.hole_bytes_skipped},
      {"rotations", f.rotations},
      {"renames", t.renames},
      {"truncations", t.truncations},
      {"copies_followed", t.copies_followed},
      {"files_opened", t.files_opened},
      {"files_closed", t.files_closed},
      {"skipped_not_regular", t.skipped_not_regular},
      {"skipped_unreadable", t.skipped_unreadable},
      {"skipped_broken_links", t.skipped_broken_links},
      {"skipped_errors", t.skipped_errors},
      {"vanished", t.vanished},
      {"read_errors", t.read_errors},
      {"checkpoint_writes", t.checkpoint_writes},
      {"checkpoint_errors", t.checkpoint_errors},
  };
}

}  // namespace ferry
