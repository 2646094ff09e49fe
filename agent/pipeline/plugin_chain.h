// PluginChain: the ordered filter/redaction plugins of one flow, between its source and its packer.
//
// A plugin sees whole batches. It may rewrite a record in place or into the batch's arena, or drop it;
// a dropped record is acknowledged at once so the source's watermark can pass it. The chain then hands
// the batch on to the flow's packer. A flow without plugins is a straight pass-through.
// Loop thread only.
#pragma once

#include <memory>
#include <vector>

#include "agent/core/batch_sink.h"

namespace ferry {

// One stage of the chain. Implementations come from plugins/.
class Plugin {
 public:
  virtual ~Plugin() = default;
  // Transforms the records of batch; returns how many it removed from batch.records().
  virtual std::size_t Process(Batch& batch) = 0;
};

class PluginChain : public BatchSink {
 public:
  explicit PluginChain(BatchSink& next) : next_(next) {}

  void Add(std::unique_ptr<Plugin> plugin) { plugins_.push_back(std::move(plugin)); }
  void Accept(BatchRef batch) override;

  std::uint64_t dropped() const { return dropped_; }

 private:
  BatchSink& next_;
  std::vector<std::unique_ptr<Plugin>> plugins_;
  std::uint64_t dropped_ = 0;
};

}  // namespace ferry
