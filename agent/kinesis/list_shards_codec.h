// ListShards codec (JSON 1.1, Kinesis API reference): the request bodies of a paginated listing and
// the reader of each page. Pure functions, no state; the bodies come from the network, so the reader
// checks every field it uses and reports a kProtocol error rather than trusting the shape.
//
// ShardFilter {"Type":"AT_LATEST"} (open shards only) is not sent: kinesalite, the integration tests'
// peer, drops parameters it does not know and lists every shard anyway, so the caller filters open
// shards itself (ShardMap::Build does) and behaves the same against both peers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/kinesis/shard_map.h"

namespace ferry::kinesis {

inline constexpr std::string_view kListShardsTarget = "Kinesis_20131202.ListShards";

// First page: {"StreamName":stream}.
std::string EncodeListShardsFirst(std::string_view stream);
// Later pages: {"NextToken":token} alone; the API rejects StreamName together with NextToken.
std::string EncodeListShardsNext(std::string_view next_token);

struct ListShardsPage {
  std::vector<Shard> shards;  // in response order, open and closed alike
  std::string next_token;     // empty on the last page
};

// Reads a 200 response body. Each shard needs a string ShardId and a HashKeyRange of two decimal hash
// keys; it is open when SequenceNumberRange has no EndingSequenceNumber (or it is null). Other fields
// are ignored. Errors name the shard (by position and id) and the field.
Result<ListShardsPage> DecodeListShardsResponse(std::string_view body);

}  // namespace ferry::kinesis
