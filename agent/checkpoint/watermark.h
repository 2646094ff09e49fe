// Watermark: the offset up to which a source's bytes are finished (acknowledged, dropped or spooled).
// Batches finish out of order; the watermark advances only over the contiguous prefix, so a
// checkpoint taken from it never skips a byte that is still in flight. Loop thread only.
#pragma once

#include <cstdint>
#include <map>

namespace ferry {

class Watermark {
 public:
  explicit Watermark(std::uint64_t start = 0) : committed_(start) {}

  // Marks [start, end) finished. Ranges from one source never overlap. A range that ends at or before the
  // watermark changes nothing; one that starts at or before it and ends after it advances it to its end.
  void Finish(std::uint64_t start, std::uint64_t end);

  std::uint64_t committed() const { return committed_; }
  // Finished ranges waiting for an earlier one.
  std::size_t gaps() const { return pending_.size(); }

 private:
  std::uint64_t committed_;
  std::map<std::uint64_t, std::uint64_t> pending_;  // start -> end
};

}  // namespace ferry
