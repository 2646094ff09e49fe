// KinesisOutput: a flow's delivery to a Kinesis data stream:
//   StreamPacker -> RequestCollector -> Sender(StreamDestination)
// with the shard map the packer aggregates by: listed at Start, refreshed every shard_map_refresh and at
// once when an aggregate lands on a shard it was not predicted for (the stream was resharded; the packer
// then sends its records again where they belong). Records come from the first moment; what comes before
// the first listing has ended waits for it in the packer (stream_packer.h), and goes raw if it fails. A
// failed listing is tried again after RelistDelay (1 s, doubling, at most 30 s or the refresh interval),
// so aggregation resumes soon after ListShards works again. Loop thread only.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/aws/credential_source.h"
#include "agent/aws/endpoint.h"
#include "agent/core/clock.h"
#include "agent/core/memory_budget.h"
#include "agent/delivery/delivery_path.h"
#include "agent/delivery/output.h"
#include "agent/kinesis/partition_key_policy.h"
#include "agent/kinesis/shard_admission.h"
#include "agent/kinesis/shard_map_loader.h"
#include "agent/kinesis/stream_destination.h"
#include "agent/kinesis/stream_options.h"
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
  static Result<Parts> Prepare(const StreamOptions& options, const std::string& flow,
                               const std::string& hostname);
  // The wire protocol for `protocol` at endpoint: auto is CBOR at AWS's own hosts (*.amazonaws.com, and
  // .com.cn in China) and JSON elsewhere: emulators such as kinesalite store CBOR record data wrongly.
  static Protocol ChooseProtocol(StreamOptions::Protocol protocol, const aws::ServiceEndpoint& endpoint);

  KinesisOutput(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http, MemoryBudget& budget,
                const Clock& clock, const std::string& flow, const StreamOptions& options, Parts parts,
                aws::ServiceEndpoint endpoint, aws::CredentialSource& credentials, SenderOptions sender,
                Safekeeping keep);

  BatchSink& input() override { return packer_; }
  void Start() override;
  void Drain(Duration timeout, std::function<void(std::size_t)> on_drained) override;
  void Close(std::function<void()> on_closed) override;
  std::string Summary() const override;
  void AppendCounters(std::vector<Counter>& out) const override;
  const std::map<std::string, std::uint64_t>& Errors() const override {
    return path_.sender().counters().errors;
  }

 private:
  void RefreshShardMap();
  void OnListed(Result<ShardMap> map);
  void UseShardMap(ShardMap map);
  // Next listing in `delay`, then every refresh_every_.
  void ScheduleRefresh(Duration delay);

  std::string flow_;
  spdlog::logger& log_;
  uv_loop_t* loop_;
  ShardMapLoader shards_;
  uv_timer_t refresh_timer_{};
  Duration refresh_every_;
  Duration slow_retry_;  // the pace after a listing refused for a reason only an operator can fix
  bool aggregate_;
  bool stopped_ = false;            // drained or closing: listings end without effect
  std::uint32_t failed_loads_ = 0;  // in a row
  std::minstd_rand jitter_;
  std::uint64_t wrong_shard_ = 0;  // aggregates stored on another shard than predicted
  ShardAdmission admission_;       // the sender's gate: per-shard rates and order
  DeliveryPath path_;
  StreamPacker packer_;
};

}  // namespace ferry::kinesis
