// PluginChain: runs each plugin over the batch, acknowledges what they drop, passes the rest on.
#include "agent/pipeline/plugin_chain.h"

namespace ferry {

void PluginChain::Accept(BatchRef batch) {
  for (auto& plugin : plugins_) {
    std::size_t removed = plugin->Process(*batch);
    if (removed > 0) {
      dropped_ += removed;
      batch->Ack(removed);
    }
  }
  if (!batch->records().empty()) next_.Accept(std::move(batch));
}

}  // namespace ferry
