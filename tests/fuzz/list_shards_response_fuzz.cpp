// Fuzz target: reading ListShards responses, which come from the network, and building a shard map
// from whatever shards they list (the map's validation and lookup see the same hostile ranges).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "agent/kinesis/hash_key.h"
#include "agent/kinesis/list_shards_codec.h"
#include "agent/kinesis/shard_map.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)ferry::kinesis::ParseHashKey(body);
  auto page = ferry::kinesis::DecodeListShardsResponse(body);
  if (!page) return 0;
  auto map = ferry::kinesis::ShardMap::Build(std::move(page->shards), 1);
  if (!map) return 0;
  // A built map covers every key: each lookup must find a shard that holds the key.
  for (auto key :
       {ferry::kinesis::HashKey::Min(), ferry::kinesis::HashKey::Max(), ferry::kinesis::HashKeyOf(body)}) {
    const ferry::kinesis::Shard* shard = map->ShardFor(key);
    if (shard == nullptr || key < shard->start || shard->end < key) __builtin_trap();
  }
  return 0;
}
