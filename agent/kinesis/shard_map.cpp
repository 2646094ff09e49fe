// ShardMap: validation is one pass over the open shards sorted by start; each must begin one past where
// the previous ended. Lookup is a binary search on the starts.
#include "agent/kinesis/shard_map.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace ferry::kinesis {
namespace {

// key + 1; only called on keys below Max().
HashKey Successor(HashKey key) {
  return key.low == ~std::uint64_t{0} ? HashKey{key.high + 1, 0} : HashKey{key.high, key.low + 1};
}

// key - 1; only called on keys above Min().
HashKey Predecessor(HashKey key) {
  return key.low == 0 ? HashKey{key.high - 1, ~std::uint64_t{0}} : HashKey{key.high, key.low - 1};
}

std::string Describe(const Shard& shard) {
  return fmt::format("{} ({}..{})", shard.id, ToDecimal(shard.start), ToDecimal(shard.end));
}

Error GapError(HashKey from, HashKey to, std::string_view where) {
  return Error(ErrorCode::kProtocol, fmt::format("open shards leave hash keys {}..{} uncovered ({})",
                                                 ToDecimal(from), ToDecimal(to), where));
}

}  // namespace

Result<ShardMap> ShardMap::Build(std::vector<Shard> shards, std::uint64_t generation) {
  std::erase_if(shards, [](const Shard& s) { return !s.open; });
  if (shards.empty()) return Error(ErrorCode::kProtocol, "the stream has no open shards");
  for (const auto& shard : shards) {
    if (shard.end < shard.start) {
      return Error(ErrorCode::kProtocol, fmt::format("open shard {} ends before it starts", Describe(shard)));
    }
  }
  std::sort(shards.begin(), shards.end(), [](const Shard& a, const Shard& b) { return a.start < b.start; });

  if (shards.front().start != HashKey::Min()) {
    return GapError(HashKey::Min(), Predecessor(shards.front().start),
                    fmt::format("before {}", Describe(shards.front())));
  }
  for (std::size_t i = 1; i < shards.size(); ++i) {
    const Shard& prev = shards[i - 1];
    const Shard& next = shards[i];
    if (next.start <= prev.end) {
      return Error(ErrorCode::kProtocol,
                   fmt::format("open shards {} and {} overlap", Describe(prev), Describe(next)));
    }
    if (next.start != Successor(prev.end)) {
      return GapError(Successor(prev.end), Predecessor(next.start),
                      fmt::format("between {} and {}", Describe(prev), Describe(next)));
    }
  }
  if (shards.back().end != HashKey::Max()) {
    return GapError(Successor(shards.back().end), HashKey::Max(),
                    fmt::format("after {}", Describe(shards.back())));
  }

  ShardMap map;
  map.shards_ = std::move(shards);
  map.generation_ = generation;
  return map;
}

const Shard* ShardMap::ShardFor(HashKey key) const {
  // The first shard starting above key; the one before it holds key, since the shards cover every key.
  auto after = std::upper_bound(shards_.begin(), shards_.end(), key,
                                [](HashKey k, const Shard& s) { return k < s.start; });
  if (after == shards_.begin()) return nullptr;
  return &*std::prev(after);
}

}  // namespace ferry::kinesis
