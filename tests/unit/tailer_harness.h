// A FileTailer on a real libuv loop over real files in a temporary folder, for the tailer's tests.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <catch2/catch.hpp>

#include "agent/source/file_tailer.h"
#include "tests/unit/scratch_dir.h"

namespace ferry::testing {

namespace fs = std::filesystem;

// Collects record bytes; acknowledges them at once unless told to hold them.
class CollectingSink : public BatchSink {
 public:
  void Accept(BatchRef batch) override {
    for (const auto& r : batch->records()) {
      records.emplace_back(r.data);
      ids.emplace_back(batch->file_id(), r.end_offset);
    }
    read_times_ms.push_back(batch->read_time_ms());
    if (ack) {
      batch->Ack(batch->records().size());
    } else {
      held.push_back(std::move(batch));
    }
  }
  std::vector<std::string> records;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ids;  // each record's (file id, end offset)
  std::vector<std::int64_t> read_times_ms;                   // each batch's
  std::vector<BatchRef> held;
  bool ack = true;
};

inline std::string Line(int i) {
  return fmt::format("line {:05d} some text", i);
}

inline void Append(const fs::path& path, int from, int to) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  for (int i = from; i <= to; ++i) out << Line(i) << '\n';
}

inline std::vector<std::string> Lines(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(Line(i));
  return out;
}

inline std::map<std::string, int> Counts(const std::vector<std::string>& records) {
  std::map<std::string, int> counts;
  for (const auto& r : records) ++counts[r];
  return counts;
}

// Set FERRY_TEST_LOG=1 to see the tailer's log while debugging a test.
inline spdlog::sink_ptr LogSink() {
  if (std::getenv("FERRY_TEST_LOG") != nullptr) return std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return std::make_shared<spdlog::sinks::null_sink_mt>();
}

class Harness {
 public:
  explicit Harness(const fs::path& dir, std::vector<std::string> globs, bool checkpoints = true,
                   std::size_t memory_limit = 64 << 20)
      : dir_(dir), log_("test", LogSink()), budget_(memory_limit) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    options.flow = "test";
    options.start_at = StartAt::kBeginning;
    options.scan_interval = Duration(50);
    options.checkpoint_interval = Duration(50);
    options.partial_line_timeout = Duration(100);
    options.close_inactive = Duration(60000);
    options.copy_hold = Duration(500);
    if (checkpoints) options.checkpoint_path = (dir / "state" / "checkpoints" / "test.json").string();
    globs_ = std::move(globs);
  }
  ~Harness() {
    Stop();
    uv_run(&loop_, UV_RUN_DEFAULT);  // a checkpoint write a crashed tailer left in flight
    CHECK(uv_loop_close(&loop_) == 0);
  }

  void Start(FramerOptions framing = {}) {
    auto discovery = Discovery::Create({globs_, {}, true});
    REQUIRE(discovery.ok());
    auto framer = RecordFramer::Create(framing);
    REQUIRE(framer.ok());
    tailer = std::make_unique<FileTailer>(&loop_, log_, clock_, options, std::move(*discovery),
                                          std::move(*framer), budget_, acks_, sink);
    tailer->Start();
  }

  // Runs the loop until pred holds or timeout_ms passes; returns pred().
  template <typename Pred>
  bool RunUntil(Pred pred, int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop_, UV_RUN_NOWAIT);
      usleep(2000);
    }
    return true;
  }
  void RunFor(int ms) {
    RunUntil([] { return false; }, ms);
  }

  // A clean stop: the last checkpoint is written (durably) before the tailer goes.
  void Stop() {
    if (!tailer) return;
    bool closed = false;
    tailer->Stop([&] { closed = true; });
    while (!closed) uv_run(&loop_, UV_RUN_ONCE);
    bool saved = false;
    tailer->SaveCheckpoints([&] { saved = true; });
    while (!saved) uv_run(&loop_, UV_RUN_ONCE);
    sink.held.clear();
    tailer.reset();
  }

  // kill -9: the tailer goes without a last checkpoint; what it wrote before stays.
  void Crash() {
    if (!tailer) return;
    bool closed = false;
    tailer->Stop([&] { closed = true; });
    while (!closed) uv_run(&loop_, UV_RUN_ONCE);
    sink.held.clear();
    tailer.reset();
    uv_run(&loop_,
           UV_RUN_DEFAULT);  // a write already handed to the pool completes, as it would in the kernel
  }

  // Runs the loop until no checkpoint write has happened for quiet_ms: the writes due (paced, so later
  // under the sanitizers) are done.
  void SettleCheckpoints(int quiet_ms = 300, int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      const auto writes = tailer->counters().checkpoint_writes;
      RunFor(quiet_ms);
      if (tailer->counters().checkpoint_writes == writes || std::chrono::steady_clock::now() > deadline)
        return;
    }
  }

  // Acknowledges every batch the sink holds.
  void AckHeld() {
    for (auto& batch : sink.held) batch->Ack(batch->records().size());
    sink.held.clear();
  }

  TailerOptions options;
  CollectingSink sink;
  std::unique_ptr<FileTailer> tailer;

 private:
  fs::path dir_;
  std::vector<std::string> globs_;
  uv_loop_t loop_{};
  spdlog::logger log_;
  SystemClock clock_;
  MemoryBudget budget_;
  AckTracker acks_;
};

// A scratch folder whose path the tests extend with "/".
struct TempDir {
  ScratchDir dir{"ferry-tailer-test"};
  fs::path path{dir.path()};
};

}  // namespace ferry::testing
