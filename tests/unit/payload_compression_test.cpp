// Tests of PayloadCompressor and CompressingDestination (agent/delivery): each record becomes one complete
// gzip member or zstd frame that the standard libraries read back; the size bound holds for data that
// does not compress; a wrapped destination sends compressed data while the sender's records stay as they
// were.
#include "agent/delivery/payload_compression.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "agent/delivery/compressing_destination.h"
#include "agent/firehose/firehose_destination.h"
#include "tests/unit/signed_request_test_support.h"

namespace ferry {

using testing::FixedClock;
using testing::Header;
namespace {

// Inflates one or more concatenated gzip members, as `gzip -d` does with an S3 object of records.
std::string Gunzip(std::string_view in) {
  std::string out;
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[4096];
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      REQUIRE(inflateReset(&z) == Z_OK);  // the next member
      continue;
    }
    REQUIRE(rc == Z_OK);
  }
  inflateEnd(&z);
  return out;
}

std::string Unzstd(std::string_view in) {
  unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  REQUIRE(size != ZSTD_CONTENTSIZE_ERROR);
  REQUIRE(size != ZSTD_CONTENTSIZE_UNKNOWN);
  std::string out(size, '\0');
  std::size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  REQUIRE(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Noise(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string Lines(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i)
    s += "{\"ts\":\"2026-11-26T12:00:00Z\",\"status\":200,\"path\":\"/api/v1/items/" + std::to_string(i) +
         "\"}\n";
  s.resize(n);
  return s;
}

}  // namespace

TEST_CASE("gzip and zstd records are complete members the libraries read back", "[compression]") {
  for (Compression kind : {Compression::kGzip, Compression::kZstd}) {
    PayloadCompressor compressor(kind);
    std::string first, second;
    std::string a = Lines(10000), b = Lines(300);
    REQUIRE(compressor.Compress(a, first));
    REQUIRE(compressor.Compress(b, second));  // the reused context starts clean
    CHECK(first.size() < a.size() / 4);
    if (kind == Compression::kGzip) {
      CHECK(Gunzip(first) == a);
      CHECK(Gunzip(first + second) == a + b);  // concatenated members: one valid gzip file
    } else {
      CHECK(Unzstd(first) == a);
      CHECK(Unzstd(second) == b);
    }
    CHECK(compressor.counters().records == 2);
    CHECK(compressor.counters().bytes_in == a.size() + b.size());
    CHECK(compressor.counters().bytes_out == first.size() + second.size());
  }
}

TEST_CASE("empty data compresses to a valid empty member", "[compression]") {
  PayloadCompressor gzip(Compression::kGzip);
  std::string out;
  REQUIRE(gzip.Compress("", out));
  CHECK(Gunzip(out).empty());
  PayloadCompressor zstd(Compression::kZstd);
  REQUIRE(zstd.Compress("", out));
  CHECK(Unzstd(out).empty());
}

TEST_CASE("the input bound keeps incompressible records inside the limit", "[compression]") {
  for (std::size_t limit :
       {std::size_t{200}, std::size_t{4096}, std::size_t{1} << 20, std::size_t{1000} << 10}) {
    for (Compression kind : {Compression::kGzip, Compression::kZstd}) {
      std::size_t n = LargestCompressibleInput(kind, limit);
      CHECK(n < limit);
      CHECK(ZSTD_compressBound(n) <= limit);
      z_stream z{};
      REQUIRE(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
      CHECK(deflateBound(&z, n) <= limit);
      deflateEnd(&z);
      PayloadCompressor compressor(kind);
      std::string out;
      REQUIRE(compressor.Compress(Noise(n, static_cast<unsigned>(limit)), out));
      CHECK(out.size() <= limit);
    }
  }
  CHECK(LargestCompressibleInput(Compression::kNone, 1000) == 1000);
  CHECK(LargestCompressibleInput(Compression::kGzip, 100) == 0);
}

namespace {
std::string Base64Decode(std::string_view in) {
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  REQUIRE(n >= 0);
  std::size_t pad = in.ends_with("==") ? 2 : in.ends_with("=") ? 1 : 0;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}
}  // namespace

TEST_CASE("CompressingDestination sends compressed data and leaves the records as they were",
          "[compression]") {
  FixedClock clock;
  const aws::ServiceEndpoint endpoint{"http://127.0.0.1:4573/", "127.0.0.1:4573", "eu-west-1", "firehose"};
  aws::FixedCredentials keys({"AKID", "secret", ""});
  auto inner = std::make_unique<firehose::FirehoseDestination>("logs", endpoint, keys, clock);
  CompressingDestination destination(std::move(inner), Compression::kGzip);
  CHECK(destination.description() ==
        "Firehose delivery stream 'logs' at http://127.0.0.1:4573/ (gzip records)");

  BatchRef batch{new Batch(1, 0, nullptr, 64, nullptr)};
  std::string a = Lines(5000), b = "one line\n";
  std::vector<WireRecord> records(2);
  records[0].data = a;
  records[1].data = b;
  for (auto& r : records) r.batch = batch;

  auto built = destination.BuildRequest(records);
  REQUIRE(built.ok());
  net::HttpRequest& request = *built;
  rapidjson::Document body;
  body.Parse(request.body.c_str());
  REQUIRE(body.IsObject());
  const auto& sent = body["Records"];
  REQUIRE(sent.Size() == 2);
  CHECK(Gunzip(Base64Decode(sent[0]["Data"].GetString())) == a);
  CHECK(Gunzip(Base64Decode(sent[1]["Data"].GetString())) == b);
  CHECK(records[0].data == a);  // what the sender keeps for retries
  CHECK(destination.counters().records == 2);
  CHECK(destination.counters().bytes_out < destination.counters().bytes_in);
}

namespace {

// An allocator for zlib and zstd that refuses once `budget` allocations have been made: the libraries'
// only failure (they fail when they cannot allocate), provoked for real.
struct FailingMemory {
  int budget = 0;
  int refused = 0;
  static void* Allocate(void* opaque, std::size_t bytes) {
    auto* self = static_cast<FailingMemory*>(opaque);
    if (self->budget <= 0) {
      ++self->refused;
      return nullptr;
    }
    --self->budget;
    return std::malloc(bytes);
  }
  static void Release(void*, void* block) { std::free(block); }
  CompressionMemory memory() { return {&Allocate, &Release, this}; }
};

}  // namespace

TEST_CASE("CompressingDestination reports a compressor that cannot allocate as an error, never throws",
          "[compression]") {
  FixedClock clock;
  const aws::ServiceEndpoint endpoint{"http://127.0.0.1:4573/", "127.0.0.1:4573", "eu-west-1", "firehose"};
  aws::FixedCredentials keys({"AKID", "secret", ""});
  BatchRef batch{new Batch(1, 0, nullptr, 64, nullptr)};
  std::string a = Lines(2000);
  std::vector<WireRecord> records(3);
  for (auto& r : records) {
    r.data = a;
    r.batch = batch;
  }
  for (Compression kind : {Compression::kGzip, Compression::kZstd}) {
    INFO(CompressionName(kind));
    FailingMemory memory;
    CompressingDestination destination(
        std::make_unique<firehose::FirehoseDestination>("logs", endpoint, keys, clock), kind,
        memory.memory());
    Result<net::HttpRequest> built = Error(ErrorCode::kInternal, "not built");
    CHECK_NOTHROW(built = destination.BuildRequest(records));
    REQUIRE_FALSE(built.ok());
    CHECK(memory.refused > 0);
    CHECK_THAT(built.error().message(), Catch::StartsWith("compressing record 1 of 3: "));
    CHECK(destination.counters().records == 0);
    CHECK(records[0].data == a);  // the sender's records are untouched
    // Memory again: the same destination builds the request (the sender's retry).
    memory.budget = 1000;
    auto again = destination.BuildRequest(records);
    REQUIRE(again.ok());
    CHECK(destination.counters().records == 3);
  }
}

}  // namespace ferry
