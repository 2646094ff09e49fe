// FirehoseOutput: the Firehose stages of a flow and their ordered shutdown.
#include "agent/firehose/firehose_output.h"

#include <algorithm>

#include <fmt/format.h>

#include "agent/core/callback_join.h"
#include "agent/delivery/billing_units.h"
#include "agent/firehose/firehose_destination.h"

namespace ferry::firehose {
namespace {

SenderOptions Billed(SenderOptions options) {
  options.billing = &FirehoseBilledBytes;
  return options;
}

}  // namespace

FirehoseOutput::Parts FirehoseOutput::Prepare(const DeliveryOptions& f) {
  // Compressed, a record must still fit Firehose's record limit; a line alone keeps room for its newline.
  const std::size_t record_limit = LargestCompressibleInput(f.compression, kMaxRecordBytes);
  Parts parts;
  // A pack of 1 byte holds no line with its newline: every line goes out alone (pack: false).
  parts.packing.max_record_bytes = f.pack ? std::min<std::size_t>(f.pack_max_bytes, record_limit) : 1;
  // Half of max_age in the open pack and half in the request collector: a line waits at most max_age.
  parts.packing.max_age = Duration(std::max<Duration::rep>(f.max_age.count() / 2, 1));
  parts.max_record_bytes = std::min(record_limit, FirehosePacker::MaxDataBytes() + 1) - 1;
  return parts;
}

FirehoseOutput::FirehoseOutput(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http,
                               MemoryBudget& budget, const Clock& clock, const DeliveryOptions& f,
                               Parts parts, aws::ServiceEndpoint endpoint, aws::CredentialSource& credentials,
                               SenderOptions sender, Safekeeping keep)
    : path_(loop, log, http,
            std::make_unique<FirehoseDestination>(f.delivery_stream, std::move(endpoint), credentials, clock),
            f.compression, kRequestLimits,
            Duration(std::max<Duration::rep>(f.max_age.count() - parts.packing.max_age.count(), 1)),
            Billed(sender), std::move(keep)),
      packer_(loop, path_.collector(), parts.packing, &budget) {}

void FirehoseOutput::Drain(Duration timeout, std::function<void(std::size_t)> on_drained) {
  packer_.FlushNow();
  path_.Drain(timeout, std::move(on_drained));
}

void FirehoseOutput::Close(std::function<void()> on_closed) {
  auto closed = JoinCallbacks(2, std::move(on_closed));
  packer_.Close(closed);
  path_.Close(closed);
}

std::string FirehoseOutput::Summary() const {
  const SenderCounters& s = path_.sender().counters();
  return fmt::format("records sent {} (in {} Firehose records), {}", s.user_records_sent, s.records_sent,
                     path_.Summary());
}

void FirehoseOutput::AppendCounters(std::vector<Counter>& out) const {
  const FirehosePackerCounters& p = packer_.counters();
  out.insert(out.end(),
             {
                 {"firehose_records", p.wire_records},
                 {"firehose_bytes", p.wire_bytes},
                 {"packed_across_batches", p.cross_batch},
                 {"oversize_pieces", p.oversize_split},
                 {"firehose_records_sent", path_.sender().counters().records_sent},
                 {"billed_bytes", path_.sender().counters().billed_units},
                 {"billed_bytes_unaggregated", path_.sender().counters().billed_units_unaggregated},
             });
  path_.AppendCounters(out);
}

}  // namespace ferry::firehose
