// CompressingDestination: compressed copies of a request's records, encoded by the wrapped destination.
#include "agent/delivery/compressing_destination.h"

#include <new>

#include <fmt/format.h>

namespace ferry {

CompressingDestination::CompressingDestination(std::unique_ptr<Destination> inner, Compression compression)
    : inner_(std::move(inner)),
      compressor_(compression),
      description_(fmt::format("{} ({} records)", inner_->description(), CompressionName(compression))) {}

net::HttpRequest CompressingDestination::BuildRequest(std::span<const WireRecord> records) {
  // Local, not kept: the request body is as large, and a sender between requests holds nothing.
  std::vector<std::string> data(records.size());
  std::vector<WireRecord> compressed(records.begin(), records.end());
  for (std::size_t i = 0; i < records.size(); ++i) {
    // zlib and zstd fail only when they cannot allocate; that surfaces as any allocation failure does.
    // Sending the record uncompressed instead would hand consumers data they cannot read.
    if (!compressor_.Compress(records[i].data, data[i])) throw std::bad_alloc();
    compressed[i].data = data[i];
  }
  return inner_->BuildRequest(compressed);
}

}  // namespace ferry
