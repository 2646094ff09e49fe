// Tests of StreamSource and Decompressor (agent/source): files and pipes read to their end and framed, the
// last line sent without a newline, gzip (also several members) and zstd inputs read decompressed and told
// by their first bytes, damaged or truncated compressed data ending the input with an error after the good
// records, several inputs in order, each batch labelled with its input's identity and read time, reading
// paused while the memory budget is spent and resumed when records are acknowledged, acknowledgement
// tracking, and the errors of opening inputs.
#include "agent/source/stream_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <spdlog/sinks/null_sink.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/source/file_identity.h"
#include "tests/unit/file_text.h"
#include "tests/unit/scratch_dir.h"

namespace ferry {
namespace {

using testing::WriteFile;

using testing::ScratchDir;

// What a batch says of where its records came from.
struct BatchLabel {
  std::uint64_t file_id = 0;
  std::int64_t read_time_ms = 0;
  std::string origin;
  bool operator==(const BatchLabel&) const = default;
};

struct HoldingSink : BatchSink {
  std::vector<std::string> records;
  std::vector<BatchRef> held;
  std::vector<BatchLabel> labels;
  bool ack = true;
  void Accept(BatchRef batch) override {
    for (const auto& r : batch->records()) records.emplace_back(r.data);
    labels.push_back({batch->file_id(), batch->read_time_ms(), std::string(batch->origin())});
    if (ack) {
      batch->Ack(batch->records().size());
    } else {
      held.push_back(std::move(batch));
    }
  }
  void AckHeld() {
    auto batches = std::move(held);
    held.clear();
    for (auto& b : batches) b->Ack(b->records().size());
  }
};

std::string Gzip(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Lines(int from, int to) {
  std::string text;
  for (int i = from; i <= to; ++i) text += "line " + std::to_string(i) + " of a log\n";
  return text;
}

std::vector<std::string> LineList(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back("line " + std::to_string(i) + " of a log");
  return out;
}

class TestClock : public Clock {
 public:
  std::int64_t UnixSeconds() const override { return 1733400000; }
  std::int64_t UnixMilliseconds() const override { return 1733400000123; }
};

class Reader {
 public:
  explicit Reader(std::vector<StreamInput> inputs, std::size_t budget_bytes = 64 << 20,
                  std::size_t chunk = 64 << 10)
      : log_("test", std::make_shared<spdlog::sinks::null_sink_mt>()), budget_(budget_bytes) {
    uv_loop_init(&loop_);
    FramerOptions framing;
    framing.max_record_bytes = 1 << 20;
    StreamSourceOptions options;
    options.flow = "send";
    options.read_chunk_bytes = chunk;
    source_ = std::make_unique<StreamSource>(&loop_, log_, clock_, options, std::move(inputs),
                                             *RecordFramer::Create(framing), budget_, sink);
    source_->set_on_end([this] { ended = true; });
  }
  ~Reader() {
    sink.held.clear();
    source_->Stop([] {});
    uv_run(&loop_, UV_RUN_DEFAULT);
    source_.reset();
    uv_loop_close(&loop_);
  }
  // Runs the loop until the source ended or nothing is left to do.
  void Run() {
    source_->Start();
    while (!ended && uv_run(&loop_, UV_RUN_ONCE) != 0) {
    }
  }
  void RunOnce() { uv_run(&loop_, UV_RUN_NOWAIT); }
  StreamSource& source() { return *source_; }
  MemoryBudget& budget() { return budget_; }

  HoldingSink sink;
  bool ended = false;

 private:
  uv_loop_t loop_{};
  spdlog::logger log_;
  TestClock clock_;
  MemoryBudget budget_;
  std::unique_ptr<StreamSource> source_;
};

std::vector<StreamInput> Open(const std::vector<std::string>& paths) {
  auto inputs = OpenStreamInputs(paths);
  REQUIRE(inputs.ok());
  return std::move(*inputs);
}

TEST_CASE("StreamSource reads a file to its end, the last line without a newline too", "[stream_source]") {
  ScratchDir dir;
  WriteFile(dir / "app.log", Lines(1, 5000) + "tail without newline");
  Reader r(Open({dir / "app.log"}));
  r.Run();
  REQUIRE(r.ended);
  auto expected = LineList(1, 5000);
  expected.push_back("tail without newline");
  CHECK(r.sink.records == expected);
  CHECK(r.source().all_acknowledged());
  CHECK(r.source().errors().empty());
  auto files = r.source().Files();
  REQUIRE(files.size() == 1);
  CHECK(files[0].offset == files[0].size);
  CHECK(files[0].committed == files[0].size);
}

TEST_CASE("StreamSource reads gzip and zstd inputs decompressed, told by their first bytes",
          "[stream_source]") {
  ScratchDir dir;
  WriteFile(dir / "a.log.gz", Gzip(Lines(1, 3000)) + Gzip(Lines(3001, 4000)));  // two members, as cat makes
  WriteFile(dir / "b.log.zst", Zstd(Lines(4001, 9000)));
  WriteFile(dir / "c.log", Lines(9001, 9010));
  Reader r(Open({dir / "a.log.gz", dir / "b.log.zst", dir / "c.log"}));
  r.Run();
  REQUIRE(r.ended);
  CHECK(r.sink.records == LineList(1, 9010));
  CHECK(r.source().errors().empty());
  CHECK(r.source().counters().inputs_done == 3);
  CHECK(r.source().all_acknowledged());
}

TEST_CASE("StreamSource ends a damaged or truncated compressed input with an error", "[stream_source]") {
  ScratchDir dir;
  std::string gz = Gzip(Lines(1, 20000));
  SECTION("truncated gzip") {
    WriteFile(dir / "cut.gz", gz.substr(0, gz.size() / 2));
    WriteFile(dir / "next.log", Lines(1, 2));
    Reader r(Open({dir / "cut.gz", dir / "next.log"}));
    r.Run();
    REQUIRE(r.ended);
    REQUIRE(r.source().errors().size() == 1);
    CHECK(r.source().errors()[0].find("cut.gz: gzip data ends in the middle of a member") !=
          std::string::npos);
    // Every complete line before the cut came through, in order, and the next input was read.
    REQUIRE(r.sink.records.size() > 2);
    auto good = LineList(1, 20000);
    for (std::size_t i = 0; i + 2 < r.sink.records.size(); ++i) CHECK(r.sink.records[i] == good[i]);
    CHECK(r.sink.records[r.sink.records.size() - 1] == "line 2 of a log");
  }
  SECTION("damaged zstd") {
    std::string zst = Zstd(Lines(1, 20000));
    for (std::size_t i = zst.size() / 2; i < zst.size() / 2 + 64; ++i)
      zst[i] = static_cast<char>(zst[i] ^ 0x5a);
    WriteFile(dir / "bad.zst", zst);
    Reader r(Open({dir / "bad.zst"}));
    r.Run();
    REQUIRE(r.ended);
    REQUIRE(r.source().errors().size() == 1);
    CHECK(r.source().errors()[0].find("bad.zst: zstd data is damaged") != std::string::npos);
  }
}

TEST_CASE("StreamSource reads a pipe as its writer writes", "[stream_source]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const int saved = ::dup(STDIN_FILENO);
  REQUIRE(::dup2(fds[0], STDIN_FILENO) >= 0);
  ::close(fds[0]);
  auto inputs = Open({"-"});
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  const std::string text = Lines(1, 50000);  // far more than a pipe holds
  std::thread writer([fd = fds[1], &text] {
    std::size_t off = 0;
    while (off < text.size()) {
      ssize_t n = ::write(fd, text.data() + off, std::min<std::size_t>(text.size() - off, 7000));
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
  Reader r(std::move(inputs));
  r.Run();
  writer.join();
  REQUIRE(r.ended);
  CHECK(r.sink.records == LineList(1, 50000));
  CHECK(r.source().Files()[0].path == "standard input");
  // A pipe's offsets restart every run: its records have no file identity (add's record_id skips them).
  REQUIRE_FALSE(r.sink.labels.empty());
  CHECK(r.sink.labels.front() == BatchLabel{0, 1733400000123, "standard input"});
}

TEST_CASE("StreamSource labels a file's batches with the identity the tailer gives it and the read time",
          "[stream_source]") {
  ScratchDir dir;
  const std::string first =
      "2026-12-05T10:00:00Z first line of the log, longer than sixty-four bytes in all\n";
  WriteFile(dir / "app.log", first + Lines(1, 20000));
  struct stat st {};
  REQUIRE(::stat((dir / "app.log").c_str(), &st) == 0);
  // Both a `ferry send` of the file and the daemon's tailer name its records by (device, inode, its first
  // line up to 64 bytes): a record sent again by hand gets the record_id the daemon gave it.
  const BatchLabel expected{FileIdentity(st.st_dev, st.st_ino, first.substr(0, kFileIdentityStartBytes)),
                            1733400000123, dir / "app.log"};
  CHECK(expected.file_id != FileIdentity(st.st_dev, st.st_ino, "other first line\n"));
  Reader r(Open({dir / "app.log"}), 64 << 20, 16 << 10);
  r.Run();
  REQUIRE(r.sink.labels.size() > 1);
  for (const auto& label : r.sink.labels) CHECK(label == expected);
}

TEST_CASE("StreamSource pauses while the budget is spent and goes on as records are acknowledged",
          "[stream_source]") {
  ScratchDir dir;
  WriteFile(dir / "big.log", Lines(1, 40000));  // about 1 MB
  Reader r(Open({dir / "big.log"}), 256 << 10, 64 << 10);
  r.sink.ack = false;
  r.source().Start();
  for (int i = 0; i < 50; ++i) r.RunOnce();
  CHECK_FALSE(r.ended);
  CHECK(r.budget().used() <= (256u << 10) + (64u << 10));  // one chunk over at most
  const std::size_t first = r.sink.records.size();
  CHECK(first > 0);
  CHECK(first < 40000);
  CHECK_FALSE(r.source().all_acknowledged());
  while (!r.ended) {
    r.sink.AckHeld();
    r.RunOnce();
  }
  r.sink.AckHeld();
  CHECK(r.sink.records == LineList(1, 40000));
  CHECK(r.source().all_acknowledged());
}

TEST_CASE("OpenStreamInputs names what cannot be read", "[stream_source]") {
  ScratchDir dir;
  auto missing = OpenStreamInputs({dir / "nope.log"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == dir / "nope.log" + ": cannot open: No such file or directory (ENOENT)");
  auto folder = OpenStreamInputs({dir.path()});
  REQUIRE_FALSE(folder.ok());
  CHECK(folder.error().message() == dir.path() + ": is a directory");
  auto twice = OpenStreamInputs({"-", "-"});
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().message() == "-: standard input can be named only once");
  auto none = OpenStreamInputs({});  // no file: standard input
  REQUIRE(none.ok());
  CHECK(none->at(0).name == "standard input");
  ::close(none->at(0).fd);
}

TEST_CASE("DetectCompression tells gzip and zstd from their magic numbers", "[stream_source]") {
  CHECK(DetectCompression(Gzip("x")) == InputCompression::kGzip);
  CHECK(DetectCompression(Zstd("x")) == InputCompression::kZstd);
  CHECK(DetectCompression("plain text") == InputCompression::kNone);
  CHECK(DetectCompression("") == InputCompression::kNone);
}

}  // namespace
}  // namespace ferry
