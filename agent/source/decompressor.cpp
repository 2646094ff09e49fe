// Decompressor: zlib's inflate and zstd's streaming decoder behind one small interface.
#include "agent/source/decompressor.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>

#include <fmt/format.h>

namespace ferry {
namespace {

constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};

bool StartsWith(std::string_view head, const unsigned char* magic, std::size_t n) {
  if (head.size() < n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<unsigned char>(head[i]) != magic[i]) return false;
  }
  return true;
}

class GzipDecompressor : public Decompressor {
 public:
  GzipDecompressor() = default;
  ~GzipDecompressor() override {
    if (ready_) inflateEnd(&z_);
  }
  Status Init() {
    // 15 + 32: the largest window, and gzip or zlib headers recognised by themselves.
    if (inflateInit2(&z_, 15 + 32) != Z_OK) return Error(ErrorCode::kInternal, "gzip: cannot start zlib");
    ready_ = true;
    return Status::Ok();
  }

  Result<Step> Run(std::string_view in, std::span<char> out) override {
    Step step;
    // Output may be pending inside zlib from the last call (its output was full): call on with no input.
    while (step.produced < out.size()) {
      const std::size_t avail = in.size() - step.consumed;
      if (member_ended_) {
        if (avail == 0) break;
        // Another member follows (cat a.gz b.gz); gunzip reads them all.
        if (inflateReset(&z_) != Z_OK) return Error(ErrorCode::kInternal, "gzip: cannot reset zlib");
        member_ended_ = false;
      }
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + step.consumed));
      z_.avail_in = static_cast<uInt>(std::min<std::size_t>(avail, 1u << 30));
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + step.produced);
      z_.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - step.produced, 1u << 30));
      const uInt in_before = z_.avail_in;
      const uInt out_before = z_.avail_out;
      int rc = inflate(&z_, Z_NO_FLUSH);
      const std::size_t used = in_before - z_.avail_in;
      const std::size_t made = out_before - z_.avail_out;
      step.consumed += used;
      step.produced += made;
      if (rc == Z_STREAM_END) {
        member_ended_ = true;
        in_member_ = false;
        continue;
      }
      if (used > 0) in_member_ = true;
      if (rc == Z_BUF_ERROR || (used == 0 && made == 0)) break;  // needs more input or more room
      if (rc != Z_OK) {
        return Error(ErrorCode::kProtocol,
                     fmt::format("gzip data is damaged: {}", z_.msg != nullptr ? z_.msg : zError(rc)));
      }
    }
    return step;
  }

  Status Finish() const override {
    if (in_member_)
      return Error(ErrorCode::kProtocol, "gzip data ends in the middle of a member (truncated)");
    return Status::Ok();
  }

 private:
  z_stream z_{};
  bool ready_ = false;
  bool member_ended_ = false;
  bool in_member_ = false;
};

class ZstdDecompressor : public Decompressor {
 public:
  ZstdDecompressor() : ctx_(ZSTD_createDStream()) {}
  ~ZstdDecompressor() override { ZSTD_freeDStream(ctx_); }
  Status Init() {
    if (ctx_ == nullptr) return Error(ErrorCode::kInternal, "zstd: cannot create a decoder");
    return Status::Ok();
  }

  Result<Step> Run(std::string_view in, std::span<char> out) override {
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    // Output may be pending inside zstd from the last call (its output was full): call on with no input.
    while (output.pos < output.size) {
      const std::size_t in_before = input.pos;
      const std::size_t out_before = output.pos;
      std::size_t rc = ZSTD_decompressStream(ctx_, &output, &input);
      if (ZSTD_isError(rc)) {
        return Error(ErrorCode::kProtocol, fmt::format("zstd data is damaged: {}", ZSTD_getErrorName(rc)));
      }
      if (input.pos == in_before && output.pos == out_before) break;
      // 0: a frame ended exactly here (another may follow); otherwise one is under way.
      in_frame_ = rc != 0;
    }
    return Step{input.pos, output.pos};
  }

  Status Finish() const override {
    if (in_frame_) return Error(ErrorCode::kProtocol, "zstd data ends in the middle of a frame (truncated)");
    return Status::Ok();
  }

 private:
  ZSTD_DStream* ctx_;
  bool in_frame_ = false;
};

class PlainBytes : public Decompressor {
 public:
  Result<Step> Run(std::string_view in, std::span<char> out) override {
    const std::size_t n = std::min(in.size(), out.size());
    std::copy_n(in.data(), n, out.data());
    return Step{n, n};
  }
  Status Finish() const override { return Status::Ok(); }
};

}  // namespace

InputCompression DetectCompression(std::string_view head) {
  if (StartsWith(head, kGzipMagic, sizeof kGzipMagic)) return InputCompression::kGzip;
  if (StartsWith(head, kZstdMagic, sizeof kZstdMagic)) return InputCompression::kZstd;
  return InputCompression::kNone;
}

const char* CompressionName(InputCompression c) {
  switch (c) {
    case InputCompression::kGzip:
      return "gzip";
    case InputCompression::kZstd:
      return "zstd";
    case InputCompression::kNone:
      break;
  }
  return "none";
}

Result<std::unique_ptr<Decompressor>> Decompressor::Create(InputCompression format) {
  switch (format) {
    case InputCompression::kGzip: {
      auto d = std::make_unique<GzipDecompressor>();
      if (Status s = d->Init(); !s) return s.error();
      return std::unique_ptr<Decompressor>(std::move(d));
    }
    case InputCompression::kZstd: {
      auto d = std::make_unique<ZstdDecompressor>();
      if (Status s = d->Init(); !s) return s.error();
      return std::unique_ptr<Decompressor>(std::move(d));
    }
    case InputCompression::kNone:
      break;
  }
  return std::unique_ptr<Decompressor>(std::make_unique<PlainBytes>());
}

}  // namespace ferry
