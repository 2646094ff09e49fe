// Safekeeping: where a flow puts records it cannot deliver yet (its spool, DESIGN.md §3) or ever (its
// dead-letter file). Both are optional: without a spool, undelivered records wait in memory and behind their
// source checkpoints; without a dead-letter file, refused records are retried slowly.
#pragma once

#include <memory>
#include <string>

#include "agent/core/memory_budget.h"
#include "agent/delivery/dead_letter_writer.h"
#include "agent/spool/spool.h"

namespace ferry {

struct Safekeeping {
  std::unique_ptr<spool::Spool> spool;
  bool spool_always = false;  // every request is written ahead of sending, not only what failed
  std::unique_ptr<DeadLetterWriter> dead_letters;
  std::string flow;                // names the flow in dead letters and log lines
  MemoryBudget* budget = nullptr;  // records replayed from the spool count against it
};

}  // namespace ferry
