// CompressingDestination: compressed copies of a request's records, encoded by the wrapped destination.
#include "agent/delivery/compressing_destination.h"

#include <fmt/format.h>

namespace ferry {

CompressingDestination::CompressingDestination(std::unique_ptr<Destination> inner, Compression compression,
                                               CompressionMemory memory)
    : inner_(std::move(inner)),
      compressor_(compression, memory),
      description_(fmt::format("{} ({} records)", inner_->description(), CompressionName(compression))) {}

Result<net::HttpRequest> CompressingDestination::BuildRequest(std::span<const WireRecord> records) {
  // Local, not kept: the request body is as large, and a sender between requests holds nothing.
  std::vector<std::string> data(records.size());
  std::vector<WireRecord> compressed(records.begin(), records.end());
  for (std::size_t i = 0; i < records.size(); ++i) {
    // zlib and zstd fail only when they cannot allocate. Sending the record uncompressed instead would
    // hand consumers data they cannot read, so the request is not built; the sender retries it later.
    if (Status done = compressor_.Compress(records[i].data, data[i]); !done) {
      return Error(ErrorCode::kInternal, fmt::format("compressing record {} of {}: {}", i + 1, records.size(),
                                                     done.error().message()));
    }
    compressed[i].data = data[i];
  }
  return inner_->BuildRequest(compressed);
}

}  // namespace ferry
