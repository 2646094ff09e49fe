// ResponseOutcome: how a destination's HTTP answer becomes the sender's RequestOutcome, the same for every
// AWS API ferry sends to: no answer (a transport error; an untrusted certificate and an answer too large
// get codes of their own, error_class.h), a service error (any status but 200, read by the
// API's error decoder), a 200 whose body cannot be read, or one verdict per record (and, where the API
// says, the shard each record went to). Each destination supplies only its decoders.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "agent/core/corrected_clock.h"
#include "agent/core/peer_text.h"
#include "agent/delivery/destination.h"
#include "agent/delivery/error_class.h"
#include "agent/net/http_client.h"

namespace ferry {

// decode_error(status, body) -> {type, message}; decode_results(body) -> Result<std::vector<R>> where R has
// error_code and error_message, and may have shard_id.
//
// Messages the endpoint chose are cut to kMaxPeerMessageBytes: they go into log lines and dead letters, and
// an endpoint (or a proxy or load balancer in front of it) may answer with kilobytes over many lines. An
// error body that is not the API's error document (an HTML page of a proxy, say) is quoted, cut, as the
// message, since it is all there is to say what went wrong.
inline constexpr std::size_t kMaxPeerMessageBytes = 512;
inline constexpr std::size_t kMaxQuotedBodyBytes = 200;

template <typename DecodeError, typename DecodeResults>
RequestOutcome OutcomeOf(const net::HttpResponse& response, std::size_t count, DecodeError decode_error,
                         DecodeResults decode_results) {
  RequestOutcome out;
  if (!response.transport_ok()) {
    out.failed = true;
    switch (response.failure) {
      case net::TransportFailure::kUntrustedPeer:
        out.error_code = std::string(kUntrustedCertificate);
        break;
      case net::TransportFailure::kResponseTooLarge:
        out.error_code = std::string(kResponseTooLarge);
        break;
      default:
        out.error_code = "transport";
        break;
    }
    out.error_message = response.transport_error;
    return out;
  }
  if (response.status != 200) {
    auto error = decode_error(response.status, response.body);
    out.failed = true;
    out.http_status = response.status;
    if (const std::string* date = response.header("date")) out.server_time = ParseHttpDate(*date);
    out.error_code = std::move(error.type);
    std::string_view message = error.message;
    std::string quoted;
    if (message.empty() && !response.body.empty()) {
      quoted = "body \"" + CutPeerText(response.body, kMaxQuotedBodyBytes) + "\"";
      message = quoted;
    }
    out.error_message =
        fmt::format("HTTP {}: {}", response.status, CutPeerText(message, kMaxPeerMessageBytes));
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
    if (!r.error_code.empty() && out.first_record_message.empty())
      out.first_record_message = CutPeerText(r.error_message, kMaxPeerMessageBytes);
    out.record_errors.push_back(std::move(r.error_code));
    if constexpr (requires { r.shard_id; }) out.record_lanes.push_back(std::move(r.shard_id));
  }
  return out;
}

}  // namespace ferry
