// RetainHeap: has the C library's allocator keep freed memory, up to the memory budget, instead of handing
// it back to the kernel at once; ReturnFreeHeap and HeapTrimPolicy give it back once ferry is idle.
//
// Request bodies and arena blocks are allocated and freed at the pace requests go out. glibc by default
// gives large blocks their own mappings and trims the top of the heap as soon as it is free, so every new
// body was written into fresh pages, and the page faults cost more than building the body (perf: memset
// and memmove faulting, a quarter of the CPU). memory_limit bounds what ferry holds at once, so keeping
// that much mapped costs no more than the peak the budget allows anyway. Called once, at the top of
// `ferry run`; a no-op where the C library is not glibc.
//
// After a burst (a backlog read, thousands of files found at start), what is kept is free memory scattered
// through the heap: with 10,000 idle files half of ferry's heap was free (30 of 44 MB resident). Once the
// budget holds nothing, ReturnFreeHeap hands those pages back (malloc_trim), once per burst.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/core/memory_budget.h"

namespace ferry {

void RetainHeap(std::size_t memory_limit);

// Gives the whole free pages inside the heap back to the kernel (glibc's malloc_trim).
void ReturnFreeHeap();

// Whether free heap should go back now: the budget holds nothing and was used since the last time, so an
// idle daemon trims once after each burst and a busy one not at all.
class HeapTrimPolicy {
 public:
  bool Due(const MemoryBudget& budget) {
    if (budget.used() != 0 || budget.taken_total() == trimmed_at_) return false;
    trimmed_at_ = budget.taken_total();
    return true;
  }

 private:
  std::uint64_t trimmed_at_ = 0;
};

}  // namespace ferry
