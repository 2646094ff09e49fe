// StreamPacker: keys, the predicted shard, and the aggregators' flushes.
#include "agent/kinesis/stream_packer.h"

#include "agent/core/uv_handle.h"
#include "agent/delivery/billing_units.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace ferry::kinesis {

StreamPacker::StreamPacker(uv_loop_t* loop, RequestCollector& collector, PartitionKeyPolicy keys,
                           PackingOptions options, MemoryBudget* budget)
    : loop_(loop), collector_(collector), keys_(std::move(keys)), options_(options), budget_(budget) {
  options_.limits.record_newline = options_.record_newline;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  if (!keys_.ExplicitHashKey().empty()) {
    auto parsed = ParseHashKey(keys_.ExplicitHashKey());  // validated when the policy was made
    if (parsed.ok()) fixed_hash_key_ = *parsed;
  }
  if (budget_ != nullptr) {
    // Held batches stay held: sending them raw would undo the wait, which the first listing bounds.
    reliever_ = budget_->AddReliever([this] {
      FlushSlots();
      collector_.FlushNow();
    });
  }
}

StreamPacker::~StreamPacker() {
  if (budget_ != nullptr) budget_->RemoveReliever(reliever_);
}

void StreamPacker::Accept(BatchRef batch) {
  if (waiting_) {
    held_records_ += batch->records().size();
    held_.push_back(std::move(batch));
    return;
  }
  const std::string_view hash_key = keys_.ExplicitHashKey();
  const bool aggregate = options_.aggregate && !slots_.empty();
  for (const Record& record : batch->records()) {
    ++counters_.user_records;
    counters_.user_bytes += record.data.size();
    if (aggregate && shared_keys_) {
      AddShared(record, batch);
      continue;
    }
    std::string_view key = keys_.KeyFor(record.data, batch->origin(), batch->arena());
    if (!aggregate) {
      Raw(record.data, key, hash_key, batch);
      continue;
    }
    const Shard* shard = map_->ShardFor(fixed_hash_key_ ? *fixed_hash_key_ : HashKeyOf(key));
    AddTo(slots_[static_cast<std::size_t>(shard - map_->open_shards().data())], key, hash_key, record, batch);
  }
  if (aggregate) ArmTimer();
}

void StreamPacker::AddShared(const Record& record, const BatchRef& batch) {
  Slot* slot = &slots_[current_];
  if (!slot->aggregator.Fits(slot->key, {}, record.data.size())) {
    Flush(*slot);
    current_ = (current_ + 1) % slots_.size();
    slot = &slots_[current_];
  }
  AddTo(*slot, slot->key, {}, record, batch);
}

void StreamPacker::AddTo(Slot& slot, std::string_view key, std::string_view hash_key, const Record& record,
                         const BatchRef& batch) {
  if (!slot.aggregator.Fits(key, hash_key, record.data.size())) {
    Flush(slot);
    if (!slot.aggregator.Fits(key, hash_key, record.data.size())) {
      // Too large to aggregate at all; a shared key lives in the slot, so the record gets a copy.
      Raw(record.data, shared_keys_ ? batch->arena().Copy(key) : key, hash_key, batch,
          PredictedShard(slot, *batch));
      return;
    }
  }
  if (slot.aggregator.empty()) slot.since = uv_now(loop_);
  slot.aggregator.Add(key, hash_key, record.data);
  slot.unaggregated_units += KinesisPayloadUnits(record.data.size() + (options_.record_newline ? 1 : 0));
  if (!slot.parents.empty() && slot.parents.back().first.get() == batch.get()) {
    ++slot.parents.back().second;
  } else {
    slot.parents.emplace_back(batch, 1);
  }
}

std::string_view StreamPacker::PredictedShard(const Slot& slot, Batch& batch) {
  // A copy: the map, and its ids, may be replaced while the record is in flight.
  return batch.arena().Copy(map_->open_shards()[static_cast<std::size_t>(&slot - slots_.data())].id);
}

void StreamPacker::Raw(std::string_view data, std::string_view key, std::string_view hash_key, BatchRef batch,
                       std::string_view predicted) {
  ++counters_.raw_records;
  if (options_.record_newline) {
    char* with_newline = batch->arena().Allocate(data.size() + 1);
    if (!data.empty()) std::memcpy(with_newline, data.data(), data.size());
    with_newline[data.size()] = '\n';
    data = {with_newline, data.size() + 1};
  }
  counters_.kinesis_bytes += data.size();
  WireRecord record{data, key, std::move(batch), 1, hash_key, predicted};
  record.unaggregated_units = KinesisPayloadUnits(data.size());
  collector_.Add(std::move(record));
}

void StreamPacker::Flush(Slot& slot) {
  const Aggregator& agg = slot.aggregator;
  if (agg.empty()) return;
  if (agg.records() == 1) {
    BatchRef parent = std::move(slot.parents.front().first);
    // A shared key belongs to the slot and outlives this record only as a copy.
    std::string_view key =
        shared_keys_ ? parent->arena().Copy(agg.first_partition_key()) : agg.first_partition_key();
    std::string_view predicted = PredictedShard(slot, *parent);
    Raw(agg.first_data(), key, agg.first_explicit_hash_key(), std::move(parent), predicted);
  } else {
    std::size_t bytes = agg.encoded_bytes();
    BatchRef out(new Batch(0, 0, nullptr, bytes, budget_));
    char* buf = out->arena().Allocate(bytes);
    Status written = agg.Finish({buf, bytes});
    if (!written) {
      // Only a sizing bug gets here (HashKeyOf already stopped a process whose libcrypto lacks MD5);
      // sending a corrupt aggregate would lose every record in it at the consumer.
      fmt::print(stderr, "ferry: internal error: {}\n", written.error().message());
      std::abort();
    }
    for (auto& [parent, n] : slot.parents) out->AddParent(parent.get(), n);
    std::string_view key = out->arena().Copy(agg.first_partition_key());
    const auto index = static_cast<std::size_t>(&slot - slots_.data());
    std::string_view predicted = out->arena().Copy(map_->open_shards()[index].id);
    if (!shared_keys_) {
      out->contents().reserve(agg.records());
      agg.ForEachRecord([&out](std::string_view k, std::string_view d) {
        out->contents().push_back({k, d});
      });
    }
    out->records().push_back(Record{{buf, bytes}, 0});
    const auto users = static_cast<std::uint32_t>(agg.records());
    out->SealAs(users);  // acknowledged as a whole, for every user record in it
    ++counters_.aggregates;
    counters_.aggregated_records += agg.records();
    counters_.kinesis_bytes += bytes;
    WireRecord record{{buf, bytes}, key, std::move(out), users, agg.first_explicit_hash_key(), predicted};
    record.unaggregated_units = slot.unaggregated_units;
    collector_.Add(std::move(record));
  }
  slot.aggregator.Reset();
  slot.parents.clear();
  slot.unaggregated_units = 0;
}

void StreamPacker::Redirected(WireRecord&& aggregate) {
  BatchRef holder = aggregate.batch;
  if (holder->contents().empty()) {
    aggregate.Ack();
    return;
  }
  // Each raw copy acknowledges one of the aggregate's user records; the last one finishes it.
  for (const Batch::KeyedRecord& r : holder->contents()) {
    ++counters_.resent_records;
    Raw(r.data, r.key, aggregate.explicit_hash_key, holder);
  }
}

void StreamPacker::WaitForShardMap() {
  if (options_.aggregate && !map_) waiting_ = true;
}

void StreamPacker::StopWaiting() {
  if (waiting_) ReleaseHeld();
}

void StreamPacker::ReleaseHeld() {
  waiting_ = false;
  std::vector<BatchRef> held = std::move(held_);
  held_.clear();
  held_records_ = 0;
  for (BatchRef& batch : held) Accept(std::move(batch));
}

void StreamPacker::SetShardMap(std::shared_ptr<const ShardMap> map) {
  UseMap(std::move(map));
  if (waiting_) ReleaseHeld();
}

void StreamPacker::UseMap(std::shared_ptr<const ShardMap> map) {
  for (Slot& slot : slots_) Flush(slot);
  map_ = std::move(map);
  slots_.clear();
  if (!map_ || map_->open_shards().empty()) return;
  slots_.reserve(map_->open_shards().size());
  shared_keys_ = keys_.kind() == PartitionKeySpec::Kind::kRandom && !fixed_hash_key_;
  current_ = 0;
  for (const Shard& shard : map_->open_shards()) {
    Slot slot{Aggregator(options_.limits), {}, 0, {}};
    if (shared_keys_) {
      // A random key that hashes into this shard: one in N tries for N equal shards; a tiny shard may
      // need many, and one that is never hit turns shared keys off.
      char key[RandomPartitionKeys::kKeyBytes];
      for (int tries = 0; tries < 1'000'000 && slot.key.empty(); ++tries) {
        random_.Next(key);
        HashKey h = HashKeyOf({key, sizeof key});
        if (shard.start <= h && h <= shard.end) slot.key.assign(key, sizeof key);
      }
      if (slot.key.empty()) shared_keys_ = false;
    }
    slots_.push_back(std::move(slot));
  }
}

void StreamPacker::FlushNow() {
  if (waiting_) ReleaseHeld();
  FlushSlots();
}

void StreamPacker::FlushSlots() {
  for (Slot& slot : slots_) Flush(slot);
}

void StreamPacker::ArmTimer() {
  if (timer_armed_) return;
  // Due when the oldest waiting aggregate reaches max_age.
  std::optional<std::uint64_t> oldest;
  for (const Slot& slot : slots_) {
    if (!slot.aggregator.empty()) oldest = std::min(oldest.value_or(slot.since), slot.since);
  }
  if (!oldest) return;
  const auto age = static_cast<std::uint64_t>(std::max<Duration::rep>(options_.max_age.count(), 1));
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t due = *oldest + age;
  timer_armed_ = true;
  uv_timer_start(
      &timer_, [](uv_timer_t* t) { static_cast<StreamPacker*>(t->data)->OnTimer(); },
      due > now ? due - now : 0, 0);
}

void StreamPacker::OnTimer() {
  timer_armed_ = false;
  const std::uint64_t now = uv_now(loop_);
  const auto age = static_cast<std::uint64_t>(options_.max_age.count());
  for (Slot& slot : slots_) {
    if (!slot.aggregator.empty() && now - slot.since >= age) Flush(slot);
  }
  ArmTimer();
}

void StreamPacker::Close(std::function<void()> on_closed) {
  CloseHandle(&timer_, std::move(on_closed));
}

}  // namespace ferry::kinesis
