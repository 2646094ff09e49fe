// FirehoseOutput: a flow's delivery to a Firehose delivery stream:
//   FirehosePacker -> RequestCollector -> Sender(FirehoseDestination)
// Lines are packed with their newlines into records of up to pack_max_bytes (or sent one per record),
// collected into PutRecordBatch requests of at most 500 records and 4 MiB. Loop thread only.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
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
#include "agent/firehose/record_packer.h"

namespace ferry::firehose {

class FirehoseOutput : public Output {
 public:
  struct Parts {
    FirehosePackerOptions packing;
    // Longest record this output can send whole: the flow's framer caps records at it.
    std::size_t max_record_bytes = 0;
  };
  static Parts Prepare(const config::FirehoseOptions& options);

  FirehoseOutput(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http, MemoryBudget& budget,
                 const Clock& clock, const config::FirehoseOptions& options, Parts parts,
                 aws::ServiceEndpoint endpoint, aws::CredentialSource& credentials, SenderOptions sender,
                 Safekeeping keep);

  BatchSink& input() override { return packer_; }
  void Start() override {}  // no listing: records are packed as they come
  void Drain(Duration timeout, std::function<void(std::size_t)> on_drained) override;
  void Close(std::function<void()> on_closed) override;
  std::string Summary() const override;
  void AppendCounters(std::vector<Counter>& out) const override;
  const std::map<std::string, std::uint64_t>& Errors() const override {
    return path_.sender().counters().errors;
  }

 private:
  DeliveryPath path_;
  FirehosePacker packer_;
};

}  // namespace ferry::firehose
