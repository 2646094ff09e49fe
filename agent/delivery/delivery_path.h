// DeliveryPath: the sending end every output shares: the destination (wrapped to compress each record's
// data when asked), the sender that retries it, and the request collector that feeds the sender. An
// output puts its packer in front of collector(). Loop thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/delivery/compressing_destination.h"
#include "agent/delivery/output.h"
#include "agent/delivery/payload_compression.h"
#include "agent/delivery/request_collector.h"
#include "agent/delivery/sender.h"
#include "agent/net/http_client.h"

namespace ferry {

// The collector's limits for records that are compressed after collection: compressed data that does not
// shrink grows a little, and the request that carries it must still keep the API's limit.
RequestLimits CompressedRequestLimits(RequestLimits limits, Compression compression);

class DeliveryPath {
 public:
  // max_age: how long a collected record waits for its request to fill.
  DeliveryPath(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http,
               std::unique_ptr<Destination> destination, Compression compression, RequestLimits limits,
               Duration max_age, SenderOptions sender_options);
  DeliveryPath(const DeliveryPath&) = delete;
  DeliveryPath& operator=(const DeliveryPath&) = delete;

  RequestCollector& collector() { return collector_; }
  Sender& sender() { return sender_; }
  const Sender& sender() const { return sender_; }

  // Sends what is collected and drains the sender.
  void Drain(Duration timeout, std::function<void(std::size_t undelivered)> on_drained);
  void Close(std::function<void()> on_closed);

  // "requests 3, records retried 0, failed requests 0, unsent 0" for the flow's log line.
  std::string Summary() const;
  // records_sent, records_unsent, requests, request_failures, records_retried, payload_bytes, and with
  // compression: compressed_bytes_in, compressed_bytes_out.
  void AppendCounters(std::vector<Output::Counter>& out) const;

 private:
  std::unique_ptr<Destination> destination_;
  const CompressingDestination* compressing_ = nullptr;  // destination_ when it compresses
  Sender sender_;
  RequestCollector collector_;
};

}  // namespace ferry
