// Tests of StreamPacker (agent/kinesis/stream_packer): without aggregation or a shard map every record goes
// raw under its key; with a map records are packed into KPL aggregates per predicted shard, so each
// sub-record's hash key falls in the range of the shard the aggregate's outer keys route to (random keys:
// one shared key per shard, shards filled in turn); a lone record, and one too large to aggregate, go raw;
// aggregates are split by the aggregator's limits and leave by age or on FlushNow and SetShardMap;
// acknowledging an aggregate acknowledges every source batch it drew from; an explicit hash key sends
// everything to one shard; the counters add up; Close runs its callback.
//
// Aggregates are read back the way a deaggregator reads them: magic F3 89 9A C2, a protobuf AggregatedRecord
// (read with protozero), and the MD5 of the protobuf.
#include "agent/kinesis/stream_packer.h"

#include <openssl/evp.h>
#include <uv.h>
#include <protozero/pbf_reader.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace ferry::kinesis {
namespace {

using Call = std::tuple<SourceId, std::uint64_t, std::uint64_t>;
using Kind = PartitionKeySpec::Kind;

constexpr std::string_view kMagic("\xF3\x89\x9A\xC2", 4);
constexpr std::size_t kFraming = Aggregator::kMagicBytes + Aggregator::kChecksumBytes;

struct RecordingSink : AckSink {
  std::vector<Call> calls;
  void OnBatchDone(SourceId source, std::uint64_t start, std::uint64_t end) override {
    calls.emplace_back(source, start, end);
  }
};

// ---- shard maps ----

// `count` open shards (1, 2, 4 or 8) of 2^128 / count hash keys each, in steps of HashKey::Max() / count:
// shardId-00000000000i holds [i * 2^128 / count, (i + 1) * 2^128 / count - 1].
std::shared_ptr<const ShardMap> EvenShards(std::uint64_t count, std::uint64_t generation = 1) {
  std::vector<Shard> shards;
  const std::uint64_t step = count == 1 ? 0 : (std::uint64_t{1} << 63) / (count / 2);  // of the high half
  for (std::uint64_t i = 0; i < count; ++i) {
    HashKey start{i * step, 0};
    HashKey end = i + 1 == count ? HashKey::Max() : HashKey{(i + 1) * step - 1, ~std::uint64_t{0}};
    shards.push_back(Shard{"shardId-00000000000" + std::to_string(i), start, end, true});
  }
  auto map = ShardMap::Build(std::move(shards), generation);
  INFO((map.ok() ? std::string() : map.error().message()));
  REQUIRE(map.ok());
  return std::make_shared<const ShardMap>(std::move(map).value());
}

std::shared_ptr<const ShardMap> FourShards(std::uint64_t generation = 1) {
  return EvenShards(4, generation);
}

// Index of the open shard of `map` that holds `key`.
std::size_t ShardIndexOf(const ShardMap& map, HashKey key) {
  const Shard* shard = map.ShardFor(key);
  REQUIRE(shard != nullptr);
  return static_cast<std::size_t>(shard - map.open_shards().data());
}

// The hash key Kinesis routes a record by: its explicit hash key if it has one, else MD5 of its key.
HashKey RoutingKey(std::string_view partition_key, std::string_view explicit_hash_key) {
  if (explicit_hash_key.empty()) return HashKeyOf(partition_key);
  auto parsed = ParseHashKey(explicit_hash_key);
  REQUIRE(parsed.ok());
  return *parsed;
}

// `count` distinct partition keys ("<prefix>0", "<prefix>1", ...) whose MD5 falls in shard `index` of map.
std::vector<std::string> KeysForShard(const ShardMap& map, std::size_t index, std::size_t count,
                                      const std::string& prefix = "key-") {
  std::vector<std::string> keys;
  for (std::size_t i = 0; keys.size() < count; ++i) {
    std::string key = prefix + std::to_string(i);
    if (ShardIndexOf(map, HashKeyOf(key)) == index) keys.push_back(std::move(key));
  }
  return keys;
}

// ---- key policies ----

PartitionKeyPolicy MakePolicy(const PartitionKeySpec& spec) {
  auto policy = PartitionKeyPolicy::Create(spec, KeyContext{"host-1", "flow-1"});
  if (!policy.ok()) FAIL("PartitionKeyPolicy::Create failed: " << policy.error().message());
  return std::move(policy).value();
}

PartitionKeySpec RandomKeys() {
  return PartitionKeySpec{};
}

PartitionKeySpec FixedKey(std::string key) {
  PartitionKeySpec spec;
  spec.kind = Kind::kTemplate;
  spec.text = std::move(key);
  return spec;
}

// The key is the string member "k" of each record, a JSON object (JsonLine makes one).
PartitionKeySpec JsonKey() {
  PartitionKeySpec spec;
  spec.kind = Kind::kJsonField;
  spec.text = "k";
  return spec;
}

std::string JsonLine(std::string_view key, std::string_view payload) {
  return "{\"k\":\"" + std::string(key) + "\",\"v\":\"" + std::string(payload) + "\"}";
}

PackingOptions Packing(bool aggregate = true, std::size_t max_bytes = 50 * 1024,
                       std::size_t max_records = 1000, Duration max_age = Duration(60000)) {
  PackingOptions options;
  options.aggregate = aggregate;
  options.limits.max_bytes = max_bytes;
  options.limits.max_records = max_records;
  options.max_age = max_age;
  return options;
}

// ---- decoding ----

std::string Md5(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  REQUIRE(EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_md5(), nullptr) == 1);
  return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

bool IsAggregate(std::string_view data) {
  return data.size() >= kFraming && data.substr(0, 4) == kMagic;
}

struct UserRecord {
  std::string partition_key;
  std::string explicit_hash_key;  // empty: none
  std::string data;
};

// An aggregate's user records, after checking its magic and MD5 trailer.
std::vector<UserRecord> Decode(std::string_view aggregate) {
  REQUIRE(aggregate.size() >= kFraming);
  REQUIRE(aggregate.substr(0, kMagic.size()) == kMagic);
  std::string_view protobuf = aggregate.substr(kMagic.size(), aggregate.size() - kFraming);
  REQUIRE(aggregate.substr(aggregate.size() - Aggregator::kChecksumBytes) == Md5(protobuf));

  std::vector<std::string> partition_keys;
  std::vector<std::string> explicit_hash_keys;
  struct Entry {
    std::uint64_t partition_key_index = 0;
    std::optional<std::uint64_t> explicit_hash_key_index;
    std::string data;
  };
  std::vector<Entry> entries;
  protozero::pbf_reader message(protobuf.data(), protobuf.size());
  while (message.next()) {
    switch (message.tag()) {
      case 1:
        partition_keys.push_back(message.get_string());
        break;
      case 2:
        explicit_hash_keys.push_back(message.get_string());
        break;
      case 3: {
        Entry entry;
        bool has_data = false;
        protozero::pbf_reader record = message.get_message();
        while (record.next()) {
          switch (record.tag()) {
            case 1:
              entry.partition_key_index = record.get_uint64();
              break;
            case 2:
              entry.explicit_hash_key_index = record.get_uint64();
              break;
            case 3:
              entry.data = record.get_bytes();
              has_data = true;
              break;
            default:
              FAIL("unexpected Record field " << record.tag());
          }
        }
        CHECK(has_data);
        entries.push_back(std::move(entry));
        break;
      }
      default:
        FAIL("unexpected AggregatedRecord field " << message.tag());
    }
  }
  std::vector<UserRecord> out;
  for (const Entry& e : entries) {
    REQUIRE(e.partition_key_index < partition_keys.size());
    UserRecord r{partition_keys[e.partition_key_index], "", e.data};
    if (e.explicit_hash_key_index) {
      REQUIRE(*e.explicit_hash_key_index < explicit_hash_keys.size());
      r.explicit_hash_key = explicit_hash_keys[*e.explicit_hash_key_index];
    }
    out.push_back(std::move(r));
  }
  return out;
}

// One user record as it went out: inside aggregate number `wire` (of the wire records given), or raw.
struct Sent {
  UserRecord record;
  bool aggregated = false;
  std::size_t wire = 0;
};

// Every user record in `records`, in order. With a map, checks what the KCL relies on: an aggregate's
// outer keys are its first record's, and every sub-record routes to the shard the aggregate lands on.
std::vector<Sent> Expand(const std::vector<WireRecord>& records, const ShardMap* map) {
  std::vector<Sent> out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const WireRecord& w = records[i];
    INFO("wire record " << i);
    if (!IsAggregate(w.data)) {
      CHECK(w.user_records == 1);
      out.push_back(Sent{
          {std::string(w.partition_key), std::string(w.explicit_hash_key), std::string(w.data)}, false, i});
      continue;
    }
    std::vector<UserRecord> subs = Decode(w.data);
    CHECK(subs.size() >= 2);  // a lone record goes raw
    REQUIRE_FALSE(subs.empty());
    CHECK(w.user_records == subs.size());  // acknowledged for every user record in it
    CHECK(w.partition_key == subs.front().partition_key);
    CHECK(w.explicit_hash_key == subs.front().explicit_hash_key);
    if (map != nullptr) {
      const Shard* shard = map->ShardFor(RoutingKey(w.partition_key, w.explicit_hash_key));
      REQUIRE(shard != nullptr);
      for (const UserRecord& sub : subs) {
        INFO("sub-record key " << sub.partition_key << ", shard " << shard->id);
        HashKey h = RoutingKey(sub.partition_key, sub.explicit_hash_key);
        CHECK((shard->start <= h && h <= shard->end));
      }
    }
    for (UserRecord& sub : subs) out.push_back(Sent{std::move(sub), true, i});
  }
  return out;
}

std::vector<std::string> DataOf(const std::vector<Sent>& sent) {
  std::vector<std::string> out;
  for (const Sent& s : sent) out.push_back(s.record.data);
  return out;
}

std::size_t CountAggregates(const std::vector<WireRecord>& records) {
  return static_cast<std::size_t>(
      std::count_if(records.begin(), records.end(), [](const WireRecord& w) { return IsAggregate(w.data); }));
}

// ---- harness ----

// A loop, a collector with PutRecords' limits and a long max_age (tests flush it), a packer feeding it, and
// the requests flushed, whose WireRecords keep their batches alive. Finish() closes both handles and checks
// the loop is empty.
class Harness {
 public:
  explicit Harness(PackingOptions options = Packing(), const PartitionKeySpec& keys = RandomKeys(),
                   std::shared_ptr<const ShardMap> map = nullptr)
      : budget(1ULL << 40) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    collector_.emplace(&loop_, RequestLimits{}, Duration(600000),
                       [this](std::vector<WireRecord>&& request) { requests.push_back(std::move(request)); });
    packer_.emplace(&loop_, *collector_, MakePolicy(keys), options, &budget);
    if (map) packer_->SetShardMap(std::move(map));
  }
  ~Harness() {
    if (packer_) Finish();
  }

  // A sealed batch of lines from `source`, each line taking its bytes and a newline of the source's range.
  BatchRef MakeBatch(SourceId source, std::uint64_t start, const std::vector<std::string>& lines) {
    BatchRef batch(new Batch(source, start, &sink, 256, &budget));
    std::uint64_t offset = start;
    for (const auto& line : lines) {
      offset += line.size() + 1;
      batch->records().push_back(Record{batch->arena().Copy(line), offset});
    }
    batch->set_end_offset(offset);
    batch->Seal();
    return batch;
  }
  void Send(SourceId source, std::uint64_t start, const std::vector<std::string>& lines) {
    packer().Accept(MakeBatch(source, start, lines));
  }

  // What the packer handed to the collector so far (not what waits in the packer).
  std::vector<WireRecord> Collected() {
    collector().FlushNow();
    std::vector<WireRecord> all;
    for (const auto& r : requests) all.insert(all.end(), r.begin(), r.end());
    return all;
  }
  // Everything packed so far, out of the packer and the collector.
  std::vector<WireRecord> FlushAll() {
    packer().FlushNow();
    return Collected();
  }
  // Drops every WireRecord the collector handed over (never acknowledged).
  void DropCollected() {
    collector().FlushNow();
    requests.clear();
  }

  // Runs the loop until done() or `limit` of loop time passes; a 2 ms ticker keeps uv_run from blocking
  // on the collector's long timer.
  bool RunUntil(const std::function<bool()>& done, Duration limit = Duration(5000)) {
    uv_timer_t ticker;
    uv_timer_init(&loop_, &ticker);
    uv_timer_start(
        &ticker, [](uv_timer_t*) {}, 2, 2);
    uv_update_time(&loop_);
    const std::uint64_t start = uv_now(&loop_);
    bool ok = done();
    while (!ok && uv_now(&loop_) - start < static_cast<std::uint64_t>(limit.count())) {
      uv_run(&loop_, UV_RUN_ONCE);
      ok = done();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&ticker), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close callback: ticker must not outlive this frame
    return ok;
  }

  void Finish() {
    int closed = 0;
    packer_->Close([&] { ++closed; });
    collector_->Close([&] { ++closed; });
    CHECK(closed == 0);  // close callbacks run on the loop
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(closed == 2);
    packer_.reset();
    collector_.reset();
    CHECK(uv_loop_close(&loop_) == 0);
  }

  uv_loop_t* loop() { return &loop_; }
  RequestCollector& collector() { return *collector_; }
  StreamPacker& packer() { return *packer_; }
  const PackerCounters& counters() { return packer_->counters(); }

  MemoryBudget budget;
  RecordingSink sink;
  std::vector<std::vector<WireRecord>> requests;

 private:
  uv_loop_t loop_{};
  std::optional<RequestCollector> collector_;
  std::optional<StreamPacker> packer_;
};

void AckAll(const std::vector<WireRecord>& records) {
  for (const WireRecord& w : records) w.Ack();
}

// The counters against what actually went out.
void CheckCounters(const PackerCounters& c, const std::vector<WireRecord>& records, std::size_t user_records,
                   std::uint64_t user_bytes) {
  std::uint64_t aggregates = 0, aggregated = 0, raw = 0, kinesis_bytes = 0;
  for (const WireRecord& w : records) {
    kinesis_bytes += w.data.size();
    if (IsAggregate(w.data)) {
      ++aggregates;
      aggregated += Decode(w.data).size();
    } else {
      ++raw;
    }
  }
  CHECK(c.user_records == user_records);
  CHECK(c.user_bytes == user_bytes);
  CHECK(c.aggregates == aggregates);
  CHECK(c.aggregated_records == aggregated);
  CHECK(c.raw_records == raw);
  CHECK(c.aggregated_records + c.raw_records == c.user_records);
  CHECK(c.kinesis_bytes == kinesis_bytes);
}

// ---- aggregation off, or no map ----

TEST_CASE("StreamPacker sends every record raw under its key when aggregation is off", "[stream_packer]") {
  Harness h(Packing(/*aggregate=*/false), JsonKey(), FourShards());
  const std::vector<std::string> lines = {JsonLine("a", "1"), JsonLine("b", "2"), JsonLine("a", "3")};
  h.Send(7, 100, lines);
  // Raw records go to the collector at once; nothing waits in the packer.
  CHECK(h.collector().pending_records() == 3);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 3);
  const std::vector<std::string> keys = {"a", "b", "a"};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("record " << i);
    CHECK(records[i].data == lines[i]);
    CHECK(records[i].partition_key == keys[i]);
    CHECK(records[i].explicit_hash_key.empty());
    CHECK(records[i].user_records == 1);
    CHECK(records[i].batch->source() == 7);
  }
  CHECK(h.counters().raw_records == 3);
  CHECK(h.counters().aggregates == 0);
  std::uint64_t bytes = 0;
  for (const auto& line : lines) bytes += line.size();
  CheckCounters(h.counters(), records, 3, bytes);

  records[0].Ack();
  records[1].Ack();
  CHECK(h.sink.calls.empty());
  records[2].Ack();
  CHECK(h.sink.calls == std::vector<Call>{{7, 100, 100 + bytes + 3}});
}

TEST_CASE("StreamPacker sends raw records before it has a shard map", "[stream_packer]") {
  Harness h(Packing(), RandomKeys());
  CHECK(h.packer().shard_map() == nullptr);
  h.Send(1, 0, {"one", "two", "three"});
  CHECK(h.collector().pending_records() == 3);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 3);
  CHECK(records[0].data == "one");
  CHECK(records[1].data == "two");
  CHECK(records[2].data == "three");
  std::set<std::string> keys;
  for (const auto& r : records) {
    CHECK(r.partition_key.size() == 16);  // a random key each
    keys.emplace(r.partition_key);
  }
  CHECK(keys.size() == 3);
  CHECK(h.counters().raw_records == 3);
  CHECK(h.counters().aggregates == 0);
  AckAll(records);
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 14}});
}

TEST_CASE("StreamPacker sends raw records with an empty shard map or none", "[stream_packer]") {
  Harness h(Packing(), FixedKey("web"));
  SECTION("empty map") {
    h.packer().SetShardMap(std::make_shared<const ShardMap>());
    REQUIRE(h.packer().shard_map() != nullptr);
  }
  SECTION("map taken away") {
    h.packer().SetShardMap(FourShards());
    h.packer().SetShardMap(nullptr);
    CHECK(h.packer().shard_map() == nullptr);
  }
  h.Send(1, 0, {"a", "b"});
  CHECK(h.collector().pending_records() == 2);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 2);
  CHECK(records[0].data == "a");
  CHECK(records[0].partition_key == "web");
  CHECK(records[1].data == "b");
  CHECK(CountAggregates(records) == 0);
  AckAll(records);
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 4}});
}

// ---- grouping per shard ----

bool IsRandomKey(std::string_view key) {
  return key.size() == 16 && key.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// ---- waiting for the first shard map ----

TEST_CASE("StreamPacker holds records while it waits for the first map, then aggregates them",
          "[stream_packer]") {
  Harness h(Packing(), FixedKey("web"));
  h.packer().WaitForShardMap();
  CHECK(h.packer().waiting());
  h.Send(1, 0, {"a", "b"});
  h.Send(1, 4, {"c"});
  CHECK(h.packer().held_records() == 3);
  CHECK(h.Collected().empty());
  CHECK(h.counters().user_records == 0);  // counted when they are packed

  h.packer().SetShardMap(FourShards());
  CHECK_FALSE(h.packer().waiting());
  CHECK(h.packer().held_records() == 0);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  REQUIRE(IsAggregate(records[0].data));
  CHECK(DataOf(Expand(records, h.packer().shard_map())) == std::vector<std::string>{"a", "b", "c"});
  CHECK(h.counters().aggregated_records == 3);
  // What comes next is packed at once.
  h.Send(1, 6, {"d", "e"});
  CHECK(h.packer().held_records() == 0);
  AckAll(records);
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 4}, {1, 4, 6}});
}

TEST_CASE("StreamPacker sends what it held raw, in order, when the wait ends without a map",
          "[stream_packer]") {
  Harness h(Packing(), FixedKey("web"));
  SECTION("the first listing failed") {
    h.packer().WaitForShardMap();
    h.Send(1, 0, {"one", "two"});
    h.Send(1, 8, {"three"});
    CHECK(h.Collected().empty());
    h.packer().StopWaiting();
  }
  SECTION("an empty map") {
    h.packer().WaitForShardMap();
    h.Send(1, 0, {"one", "two"});
    h.Send(1, 8, {"three"});
    h.packer().SetShardMap(std::make_shared<const ShardMap>());
  }
  SECTION("shutdown") {
    h.packer().WaitForShardMap();
    h.Send(1, 0, {"one", "two"});
    h.Send(1, 8, {"three"});
    h.packer().FlushNow();
  }
  CHECK_FALSE(h.packer().waiting());
  auto records = h.Collected();
  REQUIRE(records.size() == 3);
  CHECK(records[0].data == "one");
  CHECK(records[1].data == "two");
  CHECK(records[2].data == "three");
  CHECK(h.counters().raw_records == 3);
  // Later records go raw at once (until a map comes).
  h.Send(1, 14, {"four"});
  CHECK(h.Collected().size() == 4);
}

TEST_CASE("StreamPacker keeps holding for the first map when the memory budget is spent", "[stream_packer]") {
  // Raw records by the thousand are what the wait avoids; the first listing, not the budget, ends it.
  Harness h(Packing(), FixedKey("web"));
  h.packer().WaitForShardMap();
  h.Send(1, 0, {"a", "b", "c"});
  h.budget.MarkStarved();
  CHECK(h.packer().waiting());
  CHECK(h.packer().held_records() == 3);
  CHECK(h.Collected().empty());
  h.packer().SetShardMap(FourShards());
  CHECK(CountAggregates(h.FlushAll()) == 1);
}

TEST_CASE("StreamPacker does not wait with aggregation off or a map already there", "[stream_packer]") {
  SECTION("aggregation off") {
    Harness h(Packing(/*aggregate=*/false), FixedKey("web"));
    h.packer().WaitForShardMap();
    CHECK_FALSE(h.packer().waiting());
    h.Send(1, 0, {"a"});
    CHECK(h.collector().pending_records() == 1);
  }
  SECTION("a map already there") {
    Harness h(Packing(), FixedKey("web"), FourShards());
    h.packer().WaitForShardMap();
    CHECK_FALSE(h.packer().waiting());
    h.Send(1, 0, {"a", "b"});
    CHECK(CountAggregates(h.FlushAll()) == 1);
  }
}

TEST_CASE("StreamPacker fills one shard's aggregate at a time under a shared random key", "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(true, 50 * 1024, /*max_records=*/10), RandomKeys(), map);
  std::vector<std::string> expected;
  std::uint64_t bytes = 0;
  std::uint64_t offset = 0;
  for (SourceId b = 0; b < 10; ++b) {
    std::vector<std::string> lines;
    for (int i = 0; i < 20; ++i) {
      lines.push_back("batch " + std::to_string(b) + " line " + std::to_string(i));
      expected.push_back(lines.back());
      bytes += lines.back().size();
    }
    h.Send(b, offset, lines);
    offset += 1000;
  }
  // 200 records, 10 per aggregate: 19 full ones left when the next record did not fit; the 20th waits.
  CHECK(h.collector().pending_records() == 19);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 20);
  CHECK(CountAggregates(records) == 20);

  // Round the shards in order, each under its one key, which routes to that shard.
  std::map<std::size_t, std::string> shard_keys;
  for (std::size_t i = 0; i < records.size(); ++i) {
    INFO("aggregate " << i);
    const std::string key(records[i].partition_key);
    CHECK(IsRandomKey(key));
    const std::size_t shard = ShardIndexOf(*map, HashKeyOf(key));
    CHECK(shard == i % 4);
    auto [it, added] = shard_keys.emplace(shard, key);
    if (!added) CHECK(it->second == key);
    for (const UserRecord& sub : Decode(records[i].data)) CHECK(sub.partition_key == key);
  }
  CHECK(shard_keys.size() == 4);

  std::vector<Sent> sent = Expand(records, map.get());
  CHECK(DataOf(sent) == expected);  // in order: one aggregate at a time
  CheckCounters(h.counters(), records, 200, bytes);
  CHECK(h.counters().aggregated_records == 200);

  CHECK(h.sink.calls.empty());
  AckAll(records);
  CHECK(h.sink.calls.size() == 10);
}

TEST_CASE("StreamPacker gives each record its own random key when a shard is too small for a shared one",
          "[stream_packer]") {
  // Shard 0 holds the single hash key 0: no random key is ever found for it, so keys are per record.
  std::vector<Shard> shards = {Shard{"shardId-000000000000", HashKey{0, 0}, HashKey{0, 0}, true},
                               Shard{"shardId-000000000001", HashKey{0, 1}, HashKey::Max(), true}};
  auto built = ShardMap::Build(std::move(shards), 1);
  REQUIRE(built.ok());
  auto map = std::make_shared<const ShardMap>(std::move(built).value());
  Harness h(Packing(), RandomKeys(), map);
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i) lines.push_back("line " + std::to_string(i));
  h.Send(1, 0, lines);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  auto sent = Expand(records, map.get());
  CHECK(DataOf(sent) == lines);
  std::set<std::string> keys;
  for (const Sent& r : sent) keys.insert(r.record.partition_key);
  CHECK(keys.size() == 20);
}

TEST_CASE("StreamPacker sends a lone record with a shared key raw, under a key of its own",
          "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(), RandomKeys(), map);
  h.Send(5, 0, {"alone"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  CHECK(records[0].data == "alone");
  CHECK(records[0].batch->source() == 5);
  // The slots (and their keys) go with the map; the record's key must not.
  h.packer().SetShardMap(nullptr);
  h.Send(6, 0, {"later"});  // reuses memory freed with the slots, if any
  CHECK(IsRandomKey(records[0].partition_key));
  CHECK(ShardIndexOf(*map, HashKeyOf(records[0].partition_key)) == 0);
}

TEST_CASE("StreamPacker keeps an aggregate's key alive after its map and parents are gone",
          "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(), RandomKeys(), map);
  h.Send(1, 0, {"a", "b", "c"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  REQUIRE(IsAggregate(records[0].data));
  h.packer().SetShardMap(nullptr);  // the slots and their shared keys are gone
  h.requests.clear();
  records[0].Ack();  // the parents are released
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 6}});
  h.Send(2, 0, {"d"});
  CHECK(IsRandomKey(records[0].partition_key));
  CHECK(ShardIndexOf(*map, HashKeyOf(records[0].partition_key)) == 0);
}

TEST_CASE("StreamPacker sends a record too large to aggregate under a shared key raw", "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(true, 200), RandomKeys(), map);
  const std::string big(300, 'x');
  h.Send(1, 0, {"s1", "s2", big, "s3", "s4"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 3);
  CHECK(IsAggregate(records[0].data));
  CHECK(records[1].data == big);
  CHECK(IsRandomKey(records[1].partition_key));
  CHECK(IsAggregate(records[2].data));
  CHECK(DataOf(Expand(records, map.get())) == std::vector<std::string>{"s1", "s2", big, "s3", "s4"});
  h.packer().SetShardMap(nullptr);
  CHECK(IsRandomKey(records[1].partition_key));  // a copy, not the slot's
  AckAll(records);
  CHECK(h.sink.calls.size() == 1);
}

TEST_CASE("StreamPacker aggregates records with deterministic keys to their shards", "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(), JsonKey(), map);
  // Three keys in shard 0, two in shard 2, one in shard 3, none in shard 1.
  auto k0 = KeysForShard(*map, 0, 3);
  auto k2 = KeysForShard(*map, 2, 2);
  auto k3 = KeysForShard(*map, 3, 1);
  std::vector<std::string> lines = {JsonLine(k0[0], "a"), JsonLine(k2[0], "b"), JsonLine(k0[1], "c"),
                                    JsonLine(k3[0], "d"), JsonLine(k2[1], "e"), JsonLine(k0[2], "f"),
                                    JsonLine(k0[0], "g")};
  h.Send(1, 0, lines);
  auto records = h.FlushAll();
  // Slots flush in shard order: shard 0's aggregate, shard 2's aggregate, shard 3's lone record raw.
  REQUIRE(records.size() == 3);
  REQUIRE(IsAggregate(records[0].data));
  REQUIRE(IsAggregate(records[1].data));
  CHECK_FALSE(IsAggregate(records[2].data));
  CHECK(records[0].partition_key == k0[0]);
  CHECK(records[1].partition_key == k2[0]);
  CHECK(records[2].partition_key == k3[0]);
  CHECK(records[2].data == lines[3]);

  auto shard0 = Decode(records[0].data);
  REQUIRE(shard0.size() == 4);
  CHECK(shard0[0].data == lines[0]);
  CHECK(shard0[1].data == lines[2]);
  CHECK(shard0[2].data == lines[5]);
  CHECK(shard0[3].data == lines[6]);
  CHECK(shard0[3].partition_key == k0[0]);
  auto shard2 = Decode(records[1].data);
  REQUIRE(shard2.size() == 2);
  CHECK(shard2[0].data == lines[1]);
  CHECK(shard2[0].partition_key == k2[0]);
  CHECK(shard2[1].data == lines[4]);
  CHECK(shard2[1].partition_key == k2[1]);
  Expand(records, map.get());
  CHECK(h.counters().aggregates == 2);
  CHECK(h.counters().aggregated_records == 6);
  CHECK(h.counters().raw_records == 1);
}

TEST_CASE("StreamPacker sends a lone record of a slot raw on flush", "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(), FixedKey("web"), map);
  h.Send(3, 40, {"only"});
  CHECK(h.collector().pending_records() == 0);  // waits for company until flushed
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  CHECK(records[0].data == "only");
  CHECK(records[0].partition_key == "web");
  CHECK(records[0].explicit_hash_key.empty());
  CHECK(records[0].user_records == 1);
  CHECK(records[0].batch->source() == 3);  // the source batch itself, no holder
  CHECK(h.counters().raw_records == 1);
  CHECK(h.counters().aggregates == 0);
  CHECK(h.counters().aggregated_records == 0);
  CHECK(h.counters().kinesis_bytes == 4);
  records[0].Ack();
  CHECK(h.sink.calls == std::vector<Call>{{3, 40, 45}});
}

// ---- limits ----

TEST_CASE("StreamPacker splits aggregates at max_records", "[stream_packer]") {
  Harness h(Packing(true, 50 * 1024, /*max_records=*/3), FixedKey("web"), FourShards());
  h.Send(1, 0, {"r1", "r2", "r3", "r4", "r5", "r6", "r7"});
  // The 4th and 7th records did not fit: two full aggregates are out already, r7 waits.
  auto early = h.Collected();
  REQUIRE(early.size() == 2);
  CHECK(DataOf(Expand(early, h.packer().shard_map())) ==
        std::vector<std::string>{"r1", "r2", "r3", "r4", "r5", "r6"});
  h.DropCollected();
  auto rest = h.FlushAll();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].data == "r7");  // alone: raw
  CHECK(h.counters().aggregates == 2);
  CHECK(h.counters().aggregated_records == 6);
  CHECK(h.counters().raw_records == 1);
}

TEST_CASE("StreamPacker splits aggregates at max_bytes", "[stream_packer]") {
  // Key "web" in the table costs 5 bytes; each 50-byte record costs 56 (1 + 1 + (2 + 52)); framing is 20
  // and the outer key 3: 28 + 56n <= 200 holds for n = 3, not 4.
  const std::size_t limit = 200;
  Harness h(Packing(true, limit), FixedKey("web"), FourShards());
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) lines.push_back(std::string(49, static_cast<char>('a' + i)) + "!");
  h.Send(1, 0, lines);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 4);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("aggregate " << i);
    REQUIRE(IsAggregate(records[i].data));
    CHECK(records[i].size() <= limit);
    CHECK(records[i].size() == 196);
    CHECK(Decode(records[i].data).size() == 3);
  }
  CHECK(records[3].data == lines[9]);  // the tenth alone: raw
  CHECK(DataOf(Expand(records, h.packer().shard_map())) == lines);
  CHECK(h.counters().aggregates == 3);
  CHECK(h.counters().raw_records == 1);
}

TEST_CASE("StreamPacker sends a record too large to aggregate raw, in order", "[stream_packer]") {
  const std::size_t limit = 200;
  Harness h(Packing(true, limit), FixedKey("web"), FourShards());
  const std::string big(300, 'x');
  h.Send(1, 0, {"s1", "s2", big, "s3", "s4"});
  // The big record flushed what was waiting before it, then went raw itself.
  CHECK(h.collector().pending_records() == 2);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 3);
  REQUIRE(IsAggregate(records[0].data));
  CHECK(records[1].data == big);
  CHECK(records[1].partition_key == "web");
  CHECK(records[1].batch->source() == 1);
  REQUIRE(IsAggregate(records[2].data));
  CHECK(DataOf(Expand(records, h.packer().shard_map())) ==
        std::vector<std::string>{"s1", "s2", big, "s3", "s4"});
  CHECK(h.counters().aggregates == 2);
  CHECK(h.counters().aggregated_records == 4);
  CHECK(h.counters().raw_records == 1);
  AckAll(records);
  CHECK(h.sink.calls.size() == 1);
}

TEST_CASE("StreamPacker aggregates a record that exactly fills max_bytes, not one byte more",
          "[stream_packer]") {
  // 20 bytes of framing, 5 of key table, 3 of outer key; a data of n bytes costs n + 6 below 128 bytes
  // (Record message: 2 + 2 + n, field: 2 + that). 28 + 6 + n = 100 for n = 66.
  Harness h(Packing(true, 100), FixedKey("web"), FourShards());
  const std::string exact(66, 'e');
  const std::string over(67, 'o');
  h.Send(1, 0, {exact});
  CHECK(h.collector().pending_records() == 0);  // fits: waits in its slot
  h.Send(2, 0, {over});
  // Does not fit next to it: the slot's lone record goes raw, then this one raw too, as it fits nowhere.
  CHECK(h.collector().pending_records() == 2);
  h.Send(3, 0, {exact});
  CHECK(h.collector().pending_records() == 2);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 3);
  CHECK(records[0].data == exact);
  CHECK(records[1].data == over);
  CHECK(records[2].data == exact);
  CHECK(h.counters().raw_records == 3);
  CHECK(h.counters().aggregates == 0);
}

// ---- age ----

TEST_CASE("StreamPacker hands aggregates on after max_age without more input", "[stream_packer]") {
  Harness h(Packing(true, 50 * 1024, 1000, Duration(20)), FixedKey("web"), FourShards());
  uv_update_time(h.loop());
  const std::uint64_t start = uv_now(h.loop());
  h.Send(1, 0, {"a", "b"});
  CHECK(h.collector().pending_records() == 0);
  REQUIRE(h.RunUntil([&] { return h.collector().pending_records() > 0; }));
  CHECK(uv_now(h.loop()) - start >= 20);
  auto records = h.Collected();
  REQUIRE(records.size() == 1);
  REQUIRE(IsAggregate(records[0].data));
  CHECK(DataOf(Expand(records, h.packer().shard_map())) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("StreamPacker sends aggregates and the request at once when the memory budget is spent",
          "[stream_packer]") {
  // max_age of a minute: only the budget can make anything leave before the test ends.
  Harness h(Packing(true, 50 * 1024, 1000, Duration(60000)), FixedKey("web"), FourShards());
  h.Send(1, 0, {"a", "b", "c"});
  CHECK(h.collector().pending_records() == 0);
  CHECK(h.requests.empty());
  h.budget.MarkStarved();
  REQUIRE(h.requests.size() == 1);
  CHECK(DataOf(Expand(h.requests[0], h.packer().shard_map())) == std::vector<std::string>{"a", "b", "c"});
  CHECK(h.collector().pending_records() == 0);
}

TEST_CASE("StreamPacker sends a lone record raw after max_age", "[stream_packer]") {
  Harness h(Packing(true, 50 * 1024, 1000, Duration(20)), FixedKey("web"), FourShards());
  h.Send(1, 0, {"lonely"});
  REQUIRE(h.RunUntil([&] { return h.collector().pending_records() > 0; }));
  auto records = h.Collected();
  REQUIRE(records.size() == 1);
  CHECK(records[0].data == "lonely");
}

TEST_CASE("StreamPacker ages each shard's aggregate from its own first record", "[stream_packer]") {
  const std::uint64_t age = 60;
  auto map = FourShards();
  Harness h(Packing(true, 50 * 1024, 1000, Duration(age)), JsonKey(), map);
  auto k0 = KeysForShard(*map, 0, 1);
  auto k1 = KeysForShard(*map, 1, 1);
  uv_update_time(h.loop());
  const std::uint64_t first = uv_now(h.loop());
  h.Send(1, 0, {JsonLine(k0[0], "a"), JsonLine(k0[0], "b")});
  // Half the age later, records for another shard.
  REQUIRE(h.RunUntil([&] { return uv_now(h.loop()) - first >= age / 2; }));
  uv_update_time(h.loop());
  const std::uint64_t second = uv_now(h.loop());
  h.Send(2, 0, {JsonLine(k1[0], "c"), JsonLine(k1[0], "d")});

  REQUIRE(h.RunUntil([&] { return h.collector().pending_records() > 0; }));
  const std::uint64_t out1 = uv_now(h.loop());
  CHECK(out1 - first >= age);
  if (out1 - second < age) CHECK(h.collector().pending_records() == 1);  // shard 1's is not due yet
  REQUIRE(h.RunUntil([&] { return h.collector().pending_records() == 2; }));
  CHECK(uv_now(h.loop()) - second >= age);
  auto records = h.Collected();
  REQUIRE(records.size() == 2);
  auto sent = Expand(records, map.get());
  REQUIRE(sent.size() == 4);
  CHECK(sent[0].record.partition_key == k0[0]);
  CHECK(sent[2].record.partition_key == k1[0]);
  CHECK(CountAggregates(records) == 2);
}

TEST_CASE("StreamPacker FlushNow hands every aggregate on at once", "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(), JsonKey(), map);
  std::vector<std::string> lines;
  for (std::size_t shard = 0; shard < 4; ++shard) {
    for (const auto& key : KeysForShard(*map, shard, 5)) lines.push_back(JsonLine(key, "x"));
  }
  h.Send(1, 0, lines);
  CHECK(h.collector().pending_records() == 0);
  h.packer().FlushNow();
  CHECK(h.collector().pending_records() == 4);
  h.packer().FlushNow();  // nothing more
  CHECK(h.collector().pending_records() == 4);
  auto records = h.Collected();
  auto data = DataOf(Expand(records, map.get()));
  std::sort(data.begin(), data.end());
  std::sort(lines.begin(), lines.end());
  CHECK(data == lines);
}

// ---- acknowledgements ----

TEST_CASE("StreamPacker acknowledges both source batches of an aggregate when it is acked",
          "[stream_packer]") {
  Harness h(Packing(), FixedKey("web"), FourShards());
  BatchRef a = h.MakeBatch(1, 0, {"a1", "a2"});
  BatchRef b = h.MakeBatch(2, 500, {"b1", "b2", "b3"});
  h.packer().Accept(a);
  h.packer().Accept(b);
  a = BatchRef();  // only the packer (then the aggregate) keeps them alive
  b = BatchRef();
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  REQUIRE(IsAggregate(records[0].data));
  CHECK(records[0].user_records == 5);     // acknowledged for every user record in it
  CHECK(records[0].batch->source() == 0);  // a batch of its own, whose parents are a and b
  CHECK(DataOf(Expand(records, h.packer().shard_map())) ==
        std::vector<std::string>{"a1", "a2", "b1", "b2", "b3"});
  CHECK(h.sink.calls.empty());
  records[0].Ack();
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 6}, {2, 500, 509}});
}

TEST_CASE("StreamPacker sends a misplaced aggregate's records again one by one, raw", "[stream_packer]") {
  Harness h(Packing(), JsonKey(), FourShards());
  std::vector<std::string> lines;
  for (int i = 0; i < 6; ++i) lines.push_back(JsonLine("same-key", "payload " + std::to_string(i)));
  h.Send(1, 0, lines);  // one key: one shard, one aggregate
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  REQUIRE(IsAggregate(records[0].data));
  const std::size_t shard = ShardIndexOf(*h.packer().shard_map(), HashKeyOf("same-key"));
  CHECK(records[0].lane == h.packer().shard_map()->open_shards()[shard].id);
  h.requests.clear();
  h.packer().Redirected(std::move(records[0]));
  records.clear();
  auto again = h.Collected();
  REQUIRE(again.size() == 6);
  for (std::size_t i = 0; i < again.size(); ++i) {
    CHECK_FALSE(IsAggregate(again[i].data));
    CHECK(again[i].data == lines[i]);
    CHECK(again[i].partition_key == "same-key");
    CHECK(again[i].lane.empty());
  }
  CHECK(h.counters().resent_records == 6);
  CHECK(h.sink.calls.empty());
  for (std::size_t i = 0; i + 1 < again.size(); ++i) again[i].Ack();
  CHECK(h.sink.calls.empty());  // the source batch waits for the last copy
  again.back().Ack();
  CHECK(h.sink.calls.size() == 1);
}

TEST_CASE("StreamPacker acknowledges a misplaced aggregate of shared random keys as it is",
          "[stream_packer]") {
  // Its sub-records all hash like its outer key, so they are inside the range of wherever it went.
  Harness h(Packing(), RandomKeys(), FourShards());
  h.Send(1, 0, {"a", "b", "c"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  REQUIRE_FALSE(records[0].lane.empty());
  h.requests.clear();
  h.packer().Redirected(std::move(records[0]));
  records.clear();
  CHECK(h.Collected().empty());
  CHECK(h.counters().resent_records == 0);
  CHECK(h.sink.calls.size() == 1);
}

TEST_CASE("StreamPacker acknowledges a batch only when every aggregate holding its records is",
          "[stream_packer]") {
  Harness h(Packing(true, 50 * 1024, /*max_records=*/3), FixedKey("web"), FourShards());
  h.Send(1, 0, {"a1", "a2", "a3", "a4"});
  h.Send(2, 100, {"b1", "b2"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 2);
  CHECK(DataOf(Expand({records[0]}, nullptr)) == std::vector<std::string>{"a1", "a2", "a3"});
  CHECK(DataOf(Expand({records[1]}, nullptr)) == std::vector<std::string>{"a4", "b1", "b2"});
  records[1].Ack();  // a4 and batch 2
  CHECK(h.sink.calls == std::vector<Call>{{2, 100, 106}});
  records[0].Ack();  // a1..a3: batch 1 is complete now
  CHECK(h.sink.calls == std::vector<Call>{{2, 100, 106}, {1, 0, 12}});
}

TEST_CASE("StreamPacker acknowledges a batch split between an aggregate and a raw record",
          "[stream_packer]") {
  Harness h(Packing(true, 200), FixedKey("web"), FourShards());
  const std::string big(300, 'x');
  h.Send(1, 0, {"s1", "s2", big});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 2);
  REQUIRE(IsAggregate(records[0].data));
  CHECK(records[1].data == big);
  records[1].Ack();
  CHECK(h.sink.calls.empty());
  records[0].Ack();
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 307}});
}

TEST_CASE("StreamPacker leaves the batches of a dropped aggregate unacknowledged", "[stream_packer]") {
  Harness h(Packing(), FixedKey("web"), FourShards());
  BatchRef a = h.MakeBatch(1, 0, {"a1", "a2"});
  BatchRef b = h.MakeBatch(2, 500, {"b1"});
  h.packer().Accept(a);
  h.packer().Accept(b);
  {
    auto records = h.FlushAll();
    REQUIRE(records.size() == 1);
    REQUIRE(IsAggregate(records[0].data));
    h.requests.clear();
  }  // the aggregate is gone, never acknowledged
  CHECK(h.sink.calls.empty());
  // Its parents were released, not acknowledged: the test's references are the last ones, and their
  // records are still to be acknowledged some other way (sent again).
  a->Ack(2);
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 6}});
  a = BatchRef();
  b = BatchRef();
  CHECK(h.budget.used() == 0);  // nothing held any more
}

TEST_CASE("StreamPacker frees every batch once its records are acknowledged", "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(true, 300, 5), JsonKey(), map);
  std::minstd_rand random(7);
  std::uint64_t offset = 0;
  for (SourceId b = 0; b < 30; ++b) {
    std::vector<std::string> lines;
    const std::size_t n = random() % 6;
    for (std::size_t i = 0; i < n; ++i) {
      lines.push_back(JsonLine("k" + std::to_string(random() % 12), std::string(random() % 120, 'p')));
    }
    h.Send(b, offset, lines);
    offset += 10000;
  }
  auto records = h.FlushAll();
  Expand(records, map.get());
  AckAll(records);
  records.clear();
  h.requests.clear();
  CHECK(h.budget.used() == 0);
  // Every batch reported once: the ones with records now, the empty ones when they were sealed.
  CHECK(h.sink.calls.size() == 30);
  std::set<Call> unique(h.sink.calls.begin(), h.sink.calls.end());
  CHECK(unique.size() == 30);
}

// ---- shard map changes ----

TEST_CASE("StreamPacker sends aggregates made under the old map when the map changes", "[stream_packer]") {
  auto four = FourShards(1);
  Harness h(Packing(true, 50 * 1024, /*max_records=*/10), RandomKeys(), four);
  std::vector<std::string> before;
  for (int i = 0; i < 40; ++i) before.push_back("before " + std::to_string(i));
  h.Send(1, 0, before);
  CHECK(h.collector().pending_records() == 3);  // the fourth shard's aggregate is full but waits

  auto two = EvenShards(2, 2);
  h.packer().SetShardMap(two);
  CHECK(h.packer().shard_map() == two.get());
  auto old = h.Collected();
  REQUIRE(old.size() == 4);  // one per old shard, all handed on
  CHECK(DataOf(Expand(old, four.get())) == before);
  for (std::size_t i = 0; i < 4; ++i) CHECK(ShardIndexOf(*four, HashKeyOf(old[i].partition_key)) == i);
  h.DropCollected();
  h.packer().FlushNow();
  CHECK(h.collector().pending_records() == 0);  // nothing of the old map left

  std::vector<std::string> after;
  for (int i = 0; i < 40; ++i) after.push_back("after " + std::to_string(i));
  h.Send(2, 0, after);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 4);  // 40 records round the new map's two shards
  CHECK(DataOf(Expand(records, two.get())) == after);
  for (std::size_t i = 0; i < 4; ++i) CHECK(ShardIndexOf(*two, HashKeyOf(records[i].partition_key)) == i % 2);
}

TEST_CASE("StreamPacker sends aggregates made under the old map when keys are per record",
          "[stream_packer]") {
  auto four = FourShards(1);
  Harness h(Packing(), JsonKey(), four);
  std::vector<std::string> before;
  for (std::size_t shard = 0; shard < 4; ++shard) {
    for (const auto& key : KeysForShard(*four, shard, 3)) before.push_back(JsonLine(key, "old"));
  }
  h.Send(1, 0, before);
  CHECK(h.collector().pending_records() == 0);
  auto one = EvenShards(1, 2);
  h.packer().SetShardMap(one);
  auto old = h.Collected();
  REQUIRE(old.size() == 4);
  CHECK(DataOf(Expand(old, four.get())) == before);
  h.DropCollected();
  // Under the one-shard map every key shares the one aggregate.
  h.Send(2, 0, before);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  CHECK(Decode(records[0].data).size() == 12);
}

TEST_CASE("StreamPacker sends waiting aggregates when the map is taken away, then goes raw",
          "[stream_packer]") {
  Harness h(Packing(), FixedKey("web"), FourShards());
  h.Send(1, 0, {"a", "b", "c"});
  h.packer().SetShardMap(nullptr);
  auto records = h.Collected();
  REQUIRE(records.size() == 1);
  CHECK(IsAggregate(records[0].data));
  h.DropCollected();
  h.Send(2, 0, {"d", "e"});
  CHECK(h.collector().pending_records() == 2);
  records = h.FlushAll();
  REQUIRE(records.size() == 2);
  CHECK(records[0].data == "d");
  CHECK(records[1].data == "e");
}

// ---- explicit hash key ----

TEST_CASE("StreamPacker routes every record to the shard of the explicit hash key", "[stream_packer]") {
  auto map = FourShards();
  // Inside shard 2, spelled with leading zeros: records carry the shortest spelling.
  const HashKey ehk{(std::uint64_t{2} << 62) + 12345, 678};
  const std::string decimal = ToDecimal(ehk);
  PartitionKeySpec spec = RandomKeys();
  spec.explicit_hash_key = "000" + decimal;
  Harness h(Packing(), spec, map);
  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i) lines.push_back("line " + std::to_string(i));
  h.Send(1, 0, lines);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);  // random keys, yet one shard
  REQUIRE(IsAggregate(records[0].data));
  CHECK(records[0].explicit_hash_key == decimal);
  CHECK(ShardIndexOf(*map, RoutingKey(records[0].partition_key, records[0].explicit_hash_key)) == 2);
  auto sent = Expand(records, map.get());
  CHECK(DataOf(sent) == lines);
  std::set<std::size_t> key_shards;
  for (const Sent& s : sent) {
    CHECK(s.record.explicit_hash_key == decimal);
    key_shards.insert(ShardIndexOf(*map, HashKeyOf(s.record.partition_key)));
  }
  CHECK(key_shards.size() > 1);  // their partition keys alone would have spread them
}

TEST_CASE("StreamPacker gives raw records the explicit hash key", "[stream_packer]") {
  PartitionKeySpec spec = FixedKey("web");
  spec.explicit_hash_key = "42";
  SECTION("aggregation off") {
    Harness h(Packing(false), spec, FourShards());
    h.Send(1, 0, {"a", "b"});
    auto records = h.FlushAll();
    REQUIRE(records.size() == 2);
    for (const auto& r : records) {
      CHECK(r.explicit_hash_key == "42");
      CHECK(r.partition_key == "web");
    }
  }
  SECTION("a lone record") {
    Harness h(Packing(), spec, FourShards());
    h.Send(1, 0, {"a"});
    auto records = h.FlushAll();
    REQUIRE(records.size() == 1);
    CHECK(records[0].data == "a");
    CHECK(records[0].explicit_hash_key == "42");
  }
}

// ---- counters, and everything at once ----

TEST_CASE("StreamPacker counters match what it sent", "[stream_packer]") {
  auto map = FourShards();
  Harness h(Packing(true, 400, 4), JsonKey(), map);
  std::minstd_rand random(11);
  std::vector<std::string> expected;
  std::uint64_t bytes = 0;
  std::uint64_t offset = 0;
  for (SourceId b = 0; b < 25; ++b) {
    std::vector<std::string> lines;
    const std::size_t n = 1 + random() % 8;
    for (std::size_t i = 0; i < n; ++i) {
      // Sizes from tiny to too large to aggregate (over 400 bytes).
      std::string payload(random() % 500, static_cast<char>('a' + random() % 26));
      lines.push_back(
          JsonLine("key" + std::to_string(random() % 9), payload + std::to_string(expected.size())));
      expected.push_back(lines.back());
      bytes += lines.back().size();
    }
    h.Send(b, offset, lines);
    offset += 100000;
  }
  auto records = h.FlushAll();
  for (const auto& w : records) {
    if (!IsAggregate(w.data)) continue;
    CHECK(w.size() <= 400);
    CHECK(Decode(w.data).size() <= 4);
  }
  auto sent = Expand(records, map.get());
  auto data = DataOf(sent);
  std::sort(data.begin(), data.end());
  std::sort(expected.begin(), expected.end());
  CHECK(data == expected);
  CheckCounters(h.counters(), records, expected.size(), bytes);
  CHECK(h.counters().aggregates > 0);
  CHECK(h.counters().raw_records > 0);
  AckAll(records);
  CHECK(h.sink.calls.size() == 25);
}

// ---- record_newline ----

PackingOptions WithNewline(PackingOptions options) {
  options.record_newline = true;
  return options;
}

TEST_CASE("StreamPacker marks each record with its user records' PUT payload units sent raw",
          "[stream_packer]") {
  // 25,599 bytes and its newline fill one unit exactly; 25,600 and its newline start a second.
  const std::string one_unit(25'599, 'a'), two_units(25'600, 'b');
  SECTION("aggregated") {
    Harness h(WithNewline(Packing(true, 200 * 1024)), FixedKey("web"), FourShards());
    h.Send(1, 0, {one_unit, two_units, "c"});
    auto records = h.FlushAll();
    REQUIRE(records.size() == 1);
    REQUIRE(IsAggregate(records[0].data));
    CHECK(records[0].user_records == 3);
    CHECK(records[0].unaggregated_units == 1 + 2 + 1);
  }
  SECTION("raw") {
    Harness h(WithNewline(Packing(false)), FixedKey("web"), FourShards());
    h.Send(1, 0, {one_unit, two_units, ""});
    auto records = h.FlushAll();
    REQUIRE(records.size() == 3);
    CHECK(records[0].unaggregated_units == 1);
    CHECK(records[1].unaggregated_units == 2);
    CHECK(records[2].unaggregated_units == 1);  // an empty record still costs a unit
  }
}

TEST_CASE("StreamPacker with record_newline ends every user record with a newline, raw", "[stream_packer]") {
  Harness h(WithNewline(Packing(/*aggregate=*/false)), JsonKey(), FourShards());
  const std::vector<std::string> lines = {JsonLine("a", "1"), "", JsonLine("b", "2")};
  h.Send(7, 100, lines);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(records[i].data == lines[i] + "\n");
  CHECK(records[1].partition_key.size() == RandomPartitionKeys::kKeyBytes);  // not a JSON record: fallback
  // user_bytes are the lines', kinesis_bytes what went out, newlines included.
  CheckCounters(h.counters(), records, 3, lines[0].size() + lines[2].size());
  CHECK(h.counters().kinesis_bytes == lines[0].size() + lines[2].size() + 3);
  AckAll(records);
  CHECK(h.sink.calls.size() == 1);
}

TEST_CASE("StreamPacker with record_newline ends every user record with a newline, aggregated or not",
          "[stream_packer]") {
  // Per-record keys and shared random keys; records from tiny to too large to aggregate (over 400 bytes,
  // the newline counted), aggregates of at most 4.
  for (const bool shared : {false, true}) {
    INFO((shared ? "shared random keys" : "keys per record"));
    auto map = FourShards();
    Harness h(WithNewline(Packing(true, 400, 4)), shared ? RandomKeys() : JsonKey(), map);
    std::minstd_rand random(shared ? 12 : 13);
    std::vector<std::string> expected;
    std::uint64_t bytes = 0;
    for (SourceId b = 0; b < 25; ++b) {
      std::vector<std::string> lines;
      const std::size_t n = 1 + random() % 8;
      for (std::size_t i = 0; i < n; ++i) {
        std::string payload(random() % 500, static_cast<char>('a' + random() % 26));
        lines.push_back(
            JsonLine("key" + std::to_string(random() % 9), payload + std::to_string(expected.size())));
        expected.push_back(lines.back() + "\n");
        bytes += lines.back().size();
      }
      h.Send(b, b * 100000, lines);
    }
    auto records = h.FlushAll();
    for (const auto& w : records) {
      if (IsAggregate(w.data)) CHECK(w.size() <= 400);
    }
    auto data = DataOf(Expand(records, map.get()));
    std::sort(data.begin(), data.end());
    std::sort(expected.begin(), expected.end());
    CHECK(data == expected);
    CheckCounters(h.counters(), records, expected.size(), bytes);
    CHECK(h.counters().aggregates > 0);
    CHECK(h.counters().raw_records > 0);
    AckAll(records);
    CHECK(h.sink.calls.size() == 25);
  }
}

TEST_CASE(
    "StreamPacker with record_newline sends a misplaced aggregate's records again with one newline each",
    "[stream_packer]") {
  Harness h(WithNewline(Packing()), JsonKey(), FourShards());
  std::vector<std::string> lines;
  for (int i = 0; i < 3; ++i) lines.push_back(JsonLine("same-key", "payload " + std::to_string(i)));
  h.Send(1, 0, lines);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  REQUIRE(IsAggregate(records[0].data));
  h.requests.clear();
  h.packer().Redirected(std::move(records[0]));
  records.clear();
  auto again = h.Collected();
  REQUIRE(again.size() == 3);
  for (std::size_t i = 0; i < again.size(); ++i) CHECK(again[i].data == lines[i] + "\n");
  AckAll(again);
  CHECK(h.sink.calls.size() == 1);
}

// ---- closing ----

TEST_CASE("StreamPacker Close runs its callback once the loop runs", "[stream_packer]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  MemoryBudget budget(1 << 30);
  RecordingSink sink;
  std::vector<WireRecord> sent;
  {
    RequestCollector collector(&loop, RequestLimits{}, Duration(600000), [&](std::vector<WireRecord>&& r) {
      sent.insert(sent.end(), r.begin(), r.end());
    });
    StreamPacker packer(&loop, collector, MakePolicy(FixedKey("web")), Packing(true, 1024, 10, Duration(10)),
                        &budget);
    packer.SetShardMap(FourShards());
    BatchRef batch(new Batch(1, 0, &sink, 256, &budget));
    batch->records().push_back(Record{batch->arena().Copy("a"), 2});
    batch->records().push_back(Record{batch->arena().Copy("b"), 4});
    batch->set_end_offset(4);
    batch->Seal();
    packer.Accept(std::move(batch));  // arms the age timer
    bool packer_closed = false;
    bool collector_closed = false;
    packer.Close([&] { packer_closed = true; });
    collector.Close([&] { collector_closed = true; });
    CHECK_FALSE(packer_closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(packer_closed);
    CHECK(collector_closed);
  }  // the waiting aggregate is dropped with the packer
  CHECK(sent.empty());
  CHECK(sink.calls.empty());
  CHECK(budget.used() == 0);
  CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace ferry::kinesis
