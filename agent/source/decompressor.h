// Decompressor: turns a compressed input (a rotated log sent by hand: app.log.1.gz, app.log.2.zst) back
// into its bytes as they are read, a piece at a time, so memory stays bounded whatever the ratio.
//
// gzip (zlib's inflate, gzip or zlib headers; concatenated members are read one after the other, as gunzip
// does) and zstd (concatenated frames likewise). Detect() tells the format from the first bytes; anything
// else is plain bytes. A stream that ends inside a member or frame, or whose data is damaged, is an error
// that names the format and what zlib or zstd said; every byte before the damage has been returned.
// Not thread-safe; one per input.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

enum class InputCompression { kNone, kGzip, kZstd };

// The format of a stream that starts with `head` (at least 4 bytes for a sure answer; fewer: kNone unless
// they already match a magic number's start... which is then treated as plain).
InputCompression DetectCompression(std::string_view head);
const char* CompressionName(InputCompression c);

class Decompressor {
 public:
  struct Step {
    std::size_t consumed = 0;  // input bytes used
    std::size_t produced = 0;  // output bytes written
  };

  static Result<std::unique_ptr<Decompressor>> Create(InputCompression format);
  virtual ~Decompressor() = default;

  // Decompresses from `in` into `out` until one of them is used up. Call again with the input not consumed
  // (and more appended) while it produced something or consumed something.
  virtual Result<Step> Run(std::string_view in, std::span<char> out) = 0;
  // The input ended: an error if it ended inside a member or frame.
  virtual Status Finish() const = 0;
};

}  // namespace ferry
