// RetainHeap and ReturnFreeHeap: glibc's mallopt thresholds from the memory budget, and malloc_trim.
#include "agent/core/heap_retention.h"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ferry {

void RetainHeap(std::size_t memory_limit) {
#if defined(__GLIBC__)
  // Blocks up to 32 MiB (the most glibc takes here) come from the heap and are reused: a request body,
  // an aggregate or a read buffer is never given a mapping of its own that is unmapped when it is freed.
  constexpr int kMmapThreshold = 32 << 20;
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  // Free memory at the top of the heap is kept up to the budget and returned beyond it.
  constexpr std::size_t kMinTrim = 1 << 20;
  constexpr std::size_t kMaxTrim = 1 << 30;
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::clamp(memory_limit, kMinTrim, kMaxTrim)));
#else
  (void)memory_limit;
#endif
}

void ReturnFreeHeap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace ferry
