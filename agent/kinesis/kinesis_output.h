// KinesisOutput: a flow's delivery to a Kinesis data stream:
//   StreamPacker -> RequestCollector -> Sender(StreamDestination)
// with the shard map the packer aggregates by: listed before the first read, refreshed every
// shard_map_refresh and at once when an aggregate lands on a shard it was not predicted for (the stream
// was resharded; the packer then sends its records again where they belong). Loop thread only.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/aws/credential_source.h"
#include "agent/aws/endpoint.h"
#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/core/memory_budget.h"
#include "agent/delivery/delivery_path.h"
#include "agent/delivery/output.h"
#include "agent/kinesis/partition_key_policy.h"
#include "agent/kinesis/shard_map_loader.h"
#include "agent/kinesis/stream_destination.h"
#include "agent/kinesis/stream_packer.h"

namespace ferry::kinesis {

class KinesisOutput : public Output {
 public:
  // What can fail to build (a key pattern), prepared before any flow exists.
  struct Parts {
    PartitionKeyPolicy keys;
    PackingOptions packing;
    // Longest record this output can send whole: the flow's framer caps records at it.
    std::size_t max_record_bytes = 0;
  };
  static Result<Parts> Prepare(const config::KinesisOptions& options, const std::string& flow,
                               const std::string& hostname);
  // The wire protocol for `protocol` at endpoint: auto is CBOR at AWS's own hosts (*.amazonaws.com, and
  // .com.cn in China) and JSON elsewhere: emulators such as kinesalite store CBOR record data wrongly.
  static Protocol ChooseProtocol(config::KinesisOptions::Protocol protocol,
                                 const aws::ServiceEndpoint& endpoint);

  KinesisOutput(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http, MemoryBudget& budget,
                const Clock& clock, const std::string& flow, const config::KinesisOptions& options,
                Parts parts, aws::ServiceEndpoint endpoint, aws::CredentialSource& credentials,
                SenderOptions sender, Safekeeping keep);

  BatchSink& input() override { return packer_; }
  void Start(std::function<void()> ready) override;
  void Drain(Duration timeout, std::function<void(std::size_t)> on_drained) override;
  void Close(std::function<void()> on_closed) override;
  std::string Summary() const override;
  void AppendCounters(std::vector<Counter>& out) const override;
  const std::map<std::string, std::uint64_t>& Errors() const override {
    return path_.sender().counters().errors;
  }

 private:
  void RefreshShardMap();
  void UseShardMap(ShardMap map);
  void Ready();

  std::string flow_;
  spdlog::logger& log_;
  uv_loop_t* loop_;
  ShardMapLoader shards_;
  uv_timer_t refresh_timer_{};
  Duration refresh_every_;
  bool aggregate_;
  std::function<void()> ready_;
  DeliveryPath path_;
  StreamPacker packer_;
};

}  // namespace ferry::kinesis
