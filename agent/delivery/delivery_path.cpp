// DeliveryPath: construction of destination, sender and collector, and their shared counters.
#include "agent/delivery/delivery_path.h"

#include <fmt/format.h>

#include "agent/core/callback_join.h"

namespace ferry {
namespace {
std::unique_ptr<Destination> Wrap(std::unique_ptr<Destination> destination, Compression compression) {
  if (compression == Compression::kNone) return destination;
  return std::make_unique<CompressingDestination>(std::move(destination), compression);
}
}  // namespace

RequestLimits CompressedRequestLimits(RequestLimits limits, Compression compression) {
  if (compression == Compression::kNone) return limits;
  // Each record may grow by its n/256 and a fixed overhead (see LargestCompressibleInput): the fixed
  // parts of a full request come off first, then the proportional part.
  std::size_t fixed = limits.max_records * LargestCompressibleInputOverhead();
  limits.max_bytes = fixed < limits.max_bytes ? (limits.max_bytes - fixed) * 256 / 257 : 0;
  return limits;
}

DeliveryPath::DeliveryPath(uv_loop_t* loop, spdlog::logger& log, net::HttpClient& http,
                           std::unique_ptr<Destination> destination, Compression compression,
                           RequestLimits limits, Duration max_age, SenderOptions sender_options)
    : destination_(Wrap(std::move(destination), compression)),
      compressing_(compression == Compression::kNone
                       ? nullptr
                       : static_cast<const CompressingDestination*>(destination_.get())),
      sender_(loop, log, http, *destination_, sender_options),
      collector_(loop, CompressedRequestLimits(limits, compression), max_age,
                 [this](std::vector<WireRecord>&& records) { sender_.Submit(std::move(records)); }) {}

void DeliveryPath::Drain(Duration timeout, std::function<void(std::size_t)> on_drained) {
  collector_.FlushNow();
  sender_.Drain(timeout, std::move(on_drained));
}

void DeliveryPath::Close(std::function<void()> on_closed) {
  auto closed = JoinCallbacks(2, std::move(on_closed));
  collector_.Close(closed);
  sender_.Close(closed);
}

std::string DeliveryPath::Summary() const {
  const SenderCounters& s = sender_.counters();
  return fmt::format("requests {}, records retried {}, failed requests {}, unsent {}", s.requests,
                     s.records_retried, s.request_failures, sender_.unsent_user_records());
}

void DeliveryPath::AppendCounters(std::vector<Output::Counter>& out) const {
  const SenderCounters& s = sender_.counters();
  out.insert(out.end(), {
                            {"records_sent", s.user_records_sent},
                            {"records_unsent", sender_.unsent_user_records()},
                            {"requests", s.requests},
                            {"request_failures", s.request_failures},
                            {"records_retried", s.records_retried},
                            {"payload_bytes", s.payload_bytes},
                        });
  if (compressing_ != nullptr) {
    out.insert(out.end(), {
                              {"compressed_bytes_in", compressing_->counters().bytes_in},
                              {"compressed_bytes_out", compressing_->counters().bytes_out},
                          });
  }
}

}  // namespace ferry
