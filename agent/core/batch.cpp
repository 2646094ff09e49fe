// Batch: acknowledgement counting; the ack reaches the sink exactly once per batch.
#include "agent/core/batch.h"

namespace ferry {

void Batch::Ack(std::size_t n) {
  acked_ += n;
  ReportIfDone();
}

void Batch::Seal() {
  SealAs(records_.size());
}

void Batch::SealAs(std::size_t count) {
  sealed_ = true;
  sealed_count_ = count;
  ReportIfDone();
}

Batch::~Batch() {
  for (auto& [parent, n] : parents_) parent->Unref();
}

void Batch::AddParent(Batch* parent, std::uint32_t records) {
  if (!parents_.empty() && parents_.back().first == parent) {
    parents_.back().second += records;
    return;
  }
  parent->AddRef();
  parents_.emplace_back(parent, records);
}

void Batch::Unref() {
  if (--refs_ == 0) delete this;
}

void Batch::ReportIfDone() {
  if (!sealed_ || reported_ || acked_ < sealed_count_) return;
  reported_ = true;
  if (sink_ != nullptr) sink_->OnBatchDone(source_, start_offset_, end_offset_);
  auto parents = std::move(parents_);
  parents_.clear();
  for (auto& [parent, n] : parents) {
    parent->Ack(n);
    parent->Unref();
  }
}

}  // namespace ferry
