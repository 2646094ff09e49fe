// AckTracker: receives finished batches and keeps one Watermark per open source.
// It is the end of the acknowledgement path (delivery -> batch -> tracker); durable checkpoints are
// written from its watermarks. It outlives every batch, so batches may point at it.
//
// Sources may belong to a group (one per flow's tailer). A group's listener hears each time a watermark
// of one of its sources moves forward, and by how many bytes, so a checkpoint writer learns what moved
// without polling (and does nothing while nothing moves). The listener runs inside the acknowledgement, on
// the loop: it should only count and schedule. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "agent/checkpoint/watermark.h"
#include "agent/core/batch.h"

namespace ferry {

// Identifies a group of sources; 0 is no group.
using AckGroup = std::uint64_t;

class AckTracker : public AckSink {
 public:
  // A new group whose on_advance(bytes) runs each time a watermark of one of its sources moves forward.
  AckGroup OpenGroup(std::function<void(std::uint64_t advanced)> on_advance);
  // Silences the group (its owner is going away); its sources stay open until closed.
  void CloseGroup(AckGroup group) { groups_.erase(group); }

  // Starts tracking a newly opened source at the offset it starts reading from; returns its id.
  SourceId Open(std::uint64_t start_offset, AckGroup group = 0);
  void Close(SourceId source) { marks_.erase(source); }

  void OnBatchDone(SourceId source, std::uint64_t start_offset, std::uint64_t end_offset) override;

  // Offset of the source's finished prefix; 0 for an unknown source.
  std::uint64_t committed(SourceId source) const;

 private:
  struct Mark {
    Watermark watermark;
    AckGroup group = 0;
  };
  std::unordered_map<SourceId, Mark> marks_;
  std::unordered_map<AckGroup, std::function<void(std::uint64_t)>> groups_;
  SourceId next_id_ = 1;
  AckGroup next_group_ = 1;
};

}  // namespace ferry
