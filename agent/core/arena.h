// Arena: bump allocation in a few large blocks, freed all at once with its owner.
// A batch owns one arena, so the records framed from a read cost no allocation of their own.
// Not thread-safe; an arena lives on the loop thread with its batch.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "agent/core/memory_budget.h"

namespace ferry {

class Arena {
 public:
  // Blocks are charged to budget (if any) while the arena lives.
  explicit Arena(std::size_t block_size = 4096, MemoryBudget* budget = nullptr)
      : block_size_(block_size), budget_(budget) {}
  ~Arena() {
    if (budget_ != nullptr) budget_->Give(capacity_);
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns n writable bytes that live as long as the arena (n may exceed the block size).
  char* Allocate(std::size_t n);
  std::string_view Copy(std::string_view bytes);

  // Bytes reserved from the system, for memory accounting.
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t block_size_;
  MemoryBudget* budget_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cursor_ = nullptr;
  std::size_t left_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace ferry
