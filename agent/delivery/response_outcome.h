// ResponseOutcome: how a destination's HTTP answer becomes the sender's RequestOutcome, the same for every
// AWS API ferry sends to: no answer (transport error), a service error (any status but 200, read by the
// API's error decoder), a 200 whose body cannot be read, or one verdict per record (and, where the API
// says, the shard each record went to). Each destination supplies only its decoders.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "agent/core/corrected_clock.h"
#include "agent/delivery/destination.h"
#include "agent/net/http_client.h"

namespace ferry {

// decode_error(status, body) -> {type, message}; decode_results(body) -> Result<std::vector<R>> where R has
// error_code and error_message, and may have shard_id.
template <typename DecodeError, typename DecodeResults>
RequestOutcome OutcomeOf(const net::HttpResponse& response, std::size_t count, DecodeError decode_error,
                         DecodeResults decode_results) {
  RequestOutcome out;
  if (!response.transport_ok()) {
    out.failed = true;
    out.error_code = "transport";
    out.error_message = response.transport_error;
    return out;
  }
  if (response.status != 200) {
    auto error = decode_error(response.status, response.body);
    out.failed = true;
    out.http_status = response.status;
    if (const std::string* date = response.header("date")) out.server_time = ParseHttpDate(*date);
    out.error_code = std::move(error.type);
    out.error_message = fmt::format("HTTP {}: {}", response.status, error.message);
    return out;
  }
  auto results = decode_results(response.body);
  if (!results) {
    out.failed = true;
    out.error_code = "InvalidResponse";
    out.error_message = results.error().message();
    return out;
  }
  out.record_errors.reserve(count);
  for (auto& r : *results) {
    if (!r.error_code.empty() && out.first_record_message.empty()) out.first_record_message = r.error_message;
    out.record_errors.push_back(std::move(r.error_code));
    if constexpr (requires { r.shard_id; }) out.record_shards.push_back(std::move(r.shard_id));
  }
  return out;
}

}  // namespace ferry
