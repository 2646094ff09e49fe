// AckTracker: receives finished batches and keeps one Watermark per open source.
// It is the end of the acknowledgement path (delivery -> batch -> tracker); durable checkpoints are
// written from its watermarks. It outlives every batch, so batches may point at it. Loop thread only.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "agent/checkpoint/watermark.h"
#include "agent/core/batch.h"

namespace ferry {

class AckTracker : public AckSink {
 public:
  // Starts tracking a newly opened source at the offset it starts reading from; returns its id.
  SourceId Open(std::uint64_t start_offset);
  void Close(SourceId source) { marks_.erase(source); }

  void OnBatchDone(SourceId source, std::uint64_t start_offset, std::uint64_t end_offset) override;

  // Offset of the source's finished prefix; 0 for an unknown source.
  std::uint64_t committed(SourceId source) const;
  // Grows whenever a batch finishes, so a checkpoint writer can tell cheaply that nothing moved.
  std::uint64_t changes() const { return changes_; }

 private:
  std::unordered_map<SourceId, Watermark> marks_;
  SourceId next_id_ = 1;
  std::uint64_t changes_ = 0;
};

}  // namespace ferry
