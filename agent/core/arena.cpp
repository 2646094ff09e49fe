// Arena: block list with a bump cursor in the newest block.
#include "agent/core/arena.h"

#include <cstring>

namespace ferry {

char* Arena::Allocate(std::size_t n) {
  if (n > left_) {
    // A request larger than a block gets a block of its own; the current block keeps its tail for small ones.
    std::size_t size = n > block_size_ ? n : block_size_;
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));
    capacity_ += size;
    if (budget_ != nullptr) budget_->Take(size);
    if (n > block_size_ && left_ > 0) return blocks_.back().get();
    cursor_ = blocks_.back().get();
    left_ = size;
  }
  char* out = cursor_;
  cursor_ += n;
  left_ -= n;
  return out;
}

std::string_view Arena::Copy(std::string_view bytes) {
  char* out = Allocate(bytes.size());
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  return {out, bytes.size()};
}

}  // namespace ferry
