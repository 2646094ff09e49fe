// FirehosePacker: the open pack as views and batch shares, closed into one exact-size copy.
#include "agent/firehose/record_packer.h"

#include "agent/core/uv_handle.h"
#include "agent/delivery/billing_units.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ferry::firehose {
namespace {

// A holder's packed bytes get an arena block of their own (Arena gives any allocation larger than the
// block size its own exact block), so the block size only matters for a tiny pack.
constexpr std::size_t kHolderBlockBytes = 256;

// Set field by field so fields the Kinesis side adds (keys) keep their defaults.
WireRecord Packed(std::string_view data, BatchRef batch, std::uint32_t user_records) {
  WireRecord wire;
  wire.data = data;
  wire.batch = std::move(batch);
  wire.user_records = user_records;
  return wire;
}

}  // namespace

FirehosePacker::FirehosePacker(uv_loop_t* loop, RequestCollector& collector, FirehosePackerOptions options,
                               MemoryBudget* budget)
    : collector_(collector),
      max_record_bytes_(std::clamp<std::size_t>(options.max_record_bytes, 1, kMaxRecordBytes)),
      max_age_(options.max_age),
      budget_(budget) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  if (budget_ != nullptr) reliever_ = budget_->AddReliever([this] { OnAge(); });
}

FirehosePacker::~FirehosePacker() {
  if (budget_ != nullptr) budget_->RemoveReliever(reliever_);
}

void FirehosePacker::Accept(BatchRef batch) {
  for (const Record& record : batch->records()) {
    ++counters_.user_records;
    std::size_t need = record.data.size() + 1;
    if (need > kMaxRecordBytes) {
      ClosePack();
      SendInPieces(batch, record.data);
      continue;
    }
    if (!lines_.empty() && bytes_ + need > max_record_bytes_) ClosePack();
    Take(batch, record.data);
    // Full (not even an empty line fits), or a line too long to share that now sits alone.
    if (bytes_ >= max_record_bytes_) ClosePack();
  }
}

void FirehosePacker::Take(const BatchRef& batch, std::string_view line) {
  if (lines_.empty()) {
    uv_timer_start(
        &timer_, [](uv_timer_t* t) { static_cast<FirehosePacker*>(t->data)->OnAge(); },
        static_cast<std::uint64_t>(max_age_.count()), 0);
  }
  if (parts_.empty() || parts_.back().batch.get() != batch.get()) parts_.push_back(Part{batch, 0});
  ++parts_.back().records;
  lines_.push_back(line);
  bytes_ += line.size() + 1;
  unaggregated_bytes_ += FirehoseBilledBytes(line.size() + 1);
}

void FirehosePacker::ClosePack() {
  if (lines_.empty()) return;
  uv_timer_stop(&timer_);
  BatchRef owner;
  std::uint32_t acks;
  char* out;
  if (parts_.size() == 1) {
    owner = std::move(parts_.front().batch);
    acks = parts_.front().records;
    out = owner->arena().Allocate(bytes_);
  } else {
    ++counters_.cross_batch;
    owner = BatchRef(new Batch(0, 0, nullptr, kHolderBlockBytes, budget_));
    for (const Part& part : parts_) owner->AddParent(part.batch.get(), part.records);
    // Acknowledged as a whole, for every line in it, so the sender counts lines whichever way they packed.
    acks = static_cast<std::uint32_t>(lines_.size());
    out = owner->arena().Allocate(bytes_);
    owner->records().push_back(Record{{out, bytes_}, 0});
    owner->SealAs(acks);
  }
  char* at = out;
  for (std::string_view line : lines_) {
    if (!line.empty()) std::memcpy(at, line.data(), line.size());
    at += line.size();
    *at++ = '\n';
  }
  WireRecord wire = Packed({out, bytes_}, std::move(owner), acks);
  wire.unaggregated_units = unaggregated_bytes_;
  unaggregated_bytes_ = 0;
  ++counters_.wire_records;
  counters_.wire_bytes += bytes_;
  lines_.clear();
  parts_.clear();
  bytes_ = 0;
  collector_.Add(std::move(wire));
}

void FirehosePacker::SendInPieces(const BatchRef& batch, std::string_view line) {
  ++counters_.oversize_split;
  std::size_t total = line.size() + 1;
  BatchRef holder(new Batch(0, 0, nullptr, kHolderBlockBytes, budget_));
  holder->AddParent(batch.get(), 1);
  char* out = holder->arena().Allocate(total);
  std::memcpy(out, line.data(), line.size());
  out[line.size()] = '\n';
  // Pieces in order, the newline in the last: Firehose concatenates record data, so the line reads whole
  // again wherever the pieces land together and in order. The holder is done, and acknowledges the line,
  // only when every piece is stored.
  for (std::size_t at = 0; at < total; at += kMaxRecordBytes) {
    holder->records().push_back(Record{{out + at, std::min(kMaxRecordBytes, total - at)}, 0});
  }
  holder->Seal();
  for (const Record& piece : holder->records()) {
    ++counters_.wire_records;
    counters_.wire_bytes += piece.data.size();
    WireRecord wire = Packed(piece.data, holder, 1);
    wire.unaggregated_units = FirehoseBilledBytes(piece.data.size());  // a line alone goes in pieces too
    collector_.Add(std::move(wire));
  }
}

void FirehosePacker::OnAge() {
  ClosePack();
  // The pack has waited max_age already; waiting the collector's max_age again would double the latency of
  // a quiet source, and a request sent now holds every record there is to send.
  collector_.FlushNow();
}

void FirehosePacker::FlushNow() {
  ClosePack();
}

void FirehosePacker::Close(std::function<void()> on_closed) {
  CloseHandle(&timer_, std::move(on_closed));
}

}  // namespace ferry::firehose
