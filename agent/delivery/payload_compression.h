// PayloadCompression: gzip or zstd applied to each record's data as it is sent, the option a destination
// offers when its consumers decompress (an S3 object of concatenated gzip members is itself a valid gzip
// file; so is a run of zstd frames). Each record is one complete gzip member or zstd frame, so a consumer
// needs no state across records. Levels favour speed (gzip 1, zstd 1): on an edge host the CPU spent per
// byte matters more than the last percent of ratio, and log lines compress well at any level.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

enum class Compression { kNone, kGzip, kZstd };

std::string_view CompressionName(Compression c);

// The most data a record may hold so that, compressed, it is sure to fit in limit bytes: incompressible
// data grows a little (block headers, the gzip trailer, the zstd frame header).
std::size_t LargestCompressibleInput(Compression c, std::size_t limit);
// The fixed part of that growth, per record: compressed, n bytes take at most n + n/256 + this.
std::size_t LargestCompressibleInputOverhead();

struct CompressionCounters {
  std::uint64_t records = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

// Where zlib and zstd get their memory: their own (malloc) by default. Tests give an allocator that fails,
// to see what a compressor that cannot allocate does to the request being built.
struct CompressionMemory {
  void* (*allocate)(void* opaque, std::size_t bytes) = nullptr;  // nullptr: the libraries' own
  void (*release)(void* opaque, void* block) = nullptr;
  void* opaque = nullptr;
};

class PayloadCompressor {
 public:
  explicit PayloadCompressor(Compression kind, CompressionMemory memory = {});
  ~PayloadCompressor();
  PayloadCompressor(const PayloadCompressor&) = delete;
  PayloadCompressor& operator=(const PayloadCompressor&) = delete;

  Compression kind() const { return kind_; }
  // Replaces out with data compressed; kNone copies. Fails only when the library does (out of memory).
  Status Compress(std::string_view data, std::string& out);
  const CompressionCounters& counters() const { return counters_; }

 private:
  Status Gzip(std::string_view data, std::string& out);
  Status Zstd(std::string_view data, std::string& out);

  Compression kind_;
  struct State;  // the library's reusable context
  std::unique_ptr<State> state_;
  CompressionCounters counters_;
};

}  // namespace ferry
