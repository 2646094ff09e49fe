// Batch: acknowledgement counting; the ack reaches the sink exactly once per batch.
#include "agent/core/batch.h"

namespace ferry {

void Batch::Ack(std::size_t n) {
  acked_ += n;
  ReportIfDone();
}

void Batch::Seal() {
  sealed_ = true;
  sealed_count_ = records_.size();
  ReportIfDone();
}

void Batch::Unref() {
  if (--refs_ == 0) delete this;
}

void Batch::ReportIfDone() {
  if (!sealed_ || reported_ || acked_ < sealed_count_) return;
  reported_ = true;
  if (sink_ != nullptr) sink_->OnBatchDone(source_, start_offset_, end_offset_);
}

}  // namespace ferry
