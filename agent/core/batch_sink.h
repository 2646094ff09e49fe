// BatchSink: the one-way hand-off between stages (source -> pipeline -> packer -> delivery).
#pragma once

#include "agent/core/batch.h"

namespace ferry {

class BatchSink {
 public:
  virtual ~BatchSink() = default;
  // Takes a sealed batch. The receiver acknowledges each record exactly once, now or later.
  virtual void Accept(BatchRef batch) = 0;
};

}  // namespace ferry
