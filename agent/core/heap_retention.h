// RetainHeap: has the C library's allocator keep freed memory, up to the memory budget, instead of handing
// it back to the kernel at once.
//
// Request bodies and arena blocks are allocated and freed at the pace requests go out. glibc by default
// gives large blocks their own mappings and trims the top of the heap as soon as it is free, so every new
// body was written into fresh pages, and the page faults cost more than building the body (perf: memset
// and memmove faulting, a quarter of the CPU). memory_limit bounds what ferry holds at once, so keeping
// that much mapped costs no more than the peak the budget allows anyway. Called once, at the top of
// `ferry run`; a no-op where the C library is not glibc.
#pragma once

#include <cstddef>

namespace ferry {

void RetainHeap(std::size_t memory_limit);

}  // namespace ferry
