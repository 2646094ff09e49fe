// CompressingDestination: a Destination that compresses each record's data, then lets the destination it
// wraps (Kinesis or Firehose) encode and read as usual. The records the sender keeps stay uncompressed, so
// retries, acknowledgements and the resending of misplaced aggregates see the data as packed; a retry
// compresses again (rare, and cheaper than keeping both forms in memory). BuildRequest runs inside HTTP
// callbacks, which must not throw: a compressor that fails makes it return an error, and the sender retries
// the request after a backoff. Loop thread only.
#pragma once

#include <memory>
#include <string>

#include "agent/delivery/destination.h"
#include "agent/delivery/payload_compression.h"

namespace ferry {

class CompressingDestination : public Destination {
 public:
  // memory: where the compressor allocates (tests give one that fails).
  CompressingDestination(std::unique_ptr<Destination> inner, Compression compression,
                         CompressionMemory memory = {});

  const std::string& description() const override { return description_; }
  // Fails, without throwing, when a record cannot be compressed (the library could not allocate); nothing
  // is sent uncompressed.
  Result<net::HttpRequest> BuildRequest(std::span<const WireRecord> records) override;
  RequestOutcome ReadResponse(const net::HttpResponse& response, std::size_t count) override {
    return inner_->ReadResponse(response, count);
  }

  const CompressionCounters& counters() const { return compressor_.counters(); }

 private:
  std::unique_ptr<Destination> inner_;
  PayloadCompressor compressor_;
  std::string description_;
};

}  // namespace ferry
