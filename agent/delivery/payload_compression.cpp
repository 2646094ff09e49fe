// PayloadCompression: zlib (gzip wrapper) and libzstd with one reusable context each.
#include "agent/delivery/payload_compression.h"

#include <zlib.h>
// For ZSTD_createCCtx_advanced (a custom allocator), exported by libzstd since 1.3 and unchanged since.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <fmt/format.h>

namespace ferry {

struct PayloadCompressor::State {
  explicit State(CompressionMemory m) : memory(m) {
    if (memory.allocate == nullptr) return;
    zlib.zalloc = [](voidpf opaque, uInt items, uInt size) -> voidpf {
      auto* mem = static_cast<CompressionMemory*>(opaque);
      return mem->allocate(mem->opaque, static_cast<std::size_t>(items) * size);
    };
    zlib.zfree = [](voidpf opaque, voidpf block) {
      auto* mem = static_cast<CompressionMemory*>(opaque);
      mem->release(mem->opaque, block);
    };
    zlib.opaque = &memory;
  }

  CompressionMemory memory;
  z_stream zlib{};
  bool zlib_ready = false;
  ZSTD_CCtx* zstd = nullptr;

  ~State() {
    if (zlib_ready) deflateEnd(&zlib);
    ZSTD_freeCCtx(zstd);
  }
};

namespace {
constexpr int kGzipLevel = 1;
constexpr int kZstdLevel = 1;
constexpr int kGzipWindowBits = 15 + 16;  // +16: a gzip header and trailer instead of zlib's
// Room for what compression adds to incompressible data: both zlib's deflateBound and ZSTD_compressBound
// stay under n/256 plus a few dozen bytes (the unit test checks it against both libraries).
constexpr std::size_t kFixedOverhead = 128;
}  // namespace

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      break;
  }
  return "none";
}

std::size_t LargestCompressibleInput(Compression c, std::size_t limit) {
  if (c == Compression::kNone) return limit;
  if (limit <= kFixedOverhead) return 0;
  // n + n/256 + kFixedOverhead <= limit
  return (limit - kFixedOverhead) * 256 / 257;
}

std::size_t LargestCompressibleInputOverhead() {
  return kFixedOverhead;
}

PayloadCompressor::PayloadCompressor(Compression kind, CompressionMemory memory)
    : kind_(kind), state_(std::make_unique<State>(memory)) {}
PayloadCompressor::~PayloadCompressor() = default;

Status PayloadCompressor::Compress(std::string_view data, std::string& out) {
  Status done = Status::Ok();
  switch (kind_) {
    case Compression::kGzip:
      done = Gzip(data, out);
      break;
    case Compression::kZstd:
      done = Zstd(data, out);
      break;
    case Compression::kNone:
      out.assign(data);
      break;
  }
  if (done) {
    ++counters_.records;
    counters_.bytes_in += data.size();
    counters_.bytes_out += out.size();
  }
  return done;
}

Status PayloadCompressor::Gzip(std::string_view data, std::string& out) {
  z_stream& z = state_->zlib;
  if (!state_->zlib_ready) {
    if (deflateInit2(&z, kGzipLevel, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return Error(ErrorCode::kInternal, "gzip: cannot initialise zlib");
    state_->zlib_ready = true;
  } else if (deflateReset(&z) != Z_OK) {
    return Error(ErrorCode::kInternal, "gzip: cannot reset zlib");
  }
  out.resize(deflateBound(&z, data.size()));
  // zlib's API is not const-correct; it only reads next_in.
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  if (rc != Z_STREAM_END) return Error(ErrorCode::kInternal, fmt::format("gzip: deflate returned {}", rc));
  out.resize(z.total_out);
  return Status::Ok();
}

Status PayloadCompressor::Zstd(std::string_view data, std::string& out) {
  if (state_->zstd == nullptr) {
    const CompressionMemory& mem = state_->memory;
    state_->zstd = mem.allocate == nullptr
                       ? ZSTD_createCCtx()
                       : ZSTD_createCCtx_advanced(ZSTD_customMem{mem.allocate, mem.release, mem.opaque});
    if (state_->zstd == nullptr) return Error(ErrorCode::kInternal, "zstd: cannot create a context");
  }
  out.resize(ZSTD_compressBound(data.size()));
  std::size_t n =
      ZSTD_compressCCtx(state_->zstd, out.data(), out.size(), data.data(), data.size(), kZstdLevel);
  if (ZSTD_isError(n)) return Error(ErrorCode::kInternal, fmt::format("zstd: {}", ZSTD_getErrorName(n)));
  out.resize(n);
  return Status::Ok();
}

}  // namespace ferry
