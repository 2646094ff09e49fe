// FileTailer: finds the files of one flow, follows them as they grow and rotate, and frames what it
// reads into batches for the next stage.
//
// Files are known by (device, inode), so a renamed file keeps its place and is drained from its open
// descriptor to the end. A periodic scan finds new files and rotations; inotify (libuv fs events) wakes
// reading as soon as a file grows. Each read pass takes at most one chunk from each file, so a busy file
// cannot starve the others, and no read starts unless the memory budget has room for it (backpressure).
// Reads use pread(2) on regular files: the page cache answers them without blocking the loop for long.
// Loop thread only.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include <spdlog/logger.h>

#include "agent/checkpoint/ack_tracker.h"
#include "agent/config/config.h"
#include "agent/core/batch_sink.h"
#include "agent/core/memory_budget.h"
#include "agent/source/line_framer.h"

namespace ferry {

struct TailerCounters {
  std::uint64_t bytes_read = 0;
  std::uint64_t files_opened = 0;
  std::uint64_t files_closed = 0;
  std::uint64_t renames = 0;
  std::uint64_t truncations = 0;
  std::uint64_t read_errors = 0;
  FramingCounters framing;
};

struct TailerOptions {
  std::string flow;
  std::vector<std::string> globs;
  config::StartAt start_at = config::StartAt::kEnd;
  std::size_t max_record_bytes = 1 << 20;
  std::size_t read_chunk_bytes = 256 << 10;  // large reads keep syscalls per line near zero
  std::uint64_t scan_interval_ms = 1000;
};

class FileTailer {
 public:
  FileTailer(uv_loop_t* loop, spdlog::logger& log, TailerOptions options, MemoryBudget& budget,
             AckTracker& acks, BatchSink& sink);
  ~FileTailer();
  FileTailer(const FileTailer&) = delete;
  FileTailer& operator=(const FileTailer&) = delete;

  // Scans once (files present now start at options.start_at) and starts following.
  void Start();
  // Stops reading and closes every handle; on_closed runs once they are all closed.
  void Stop(std::function<void()> on_closed);

  const TailerCounters& counters() const { return counters_; }
  std::size_t open_files() const { return files_.size(); }

 private:
  struct File;
  using FileKey = std::pair<dev_t, ino_t>;

  void Scan();
  void Open(const std::string& path, const struct stat& st);
  void SchedulePass();
  void ReadPass();
  // Reads at most one chunk; returns the bytes read.
  std::size_t ReadChunk(File& file);
  void EmitCarry(File& file);
  void Close(FileKey key);
  void WarnOnce(const std::string& path, const std::string& message);
  void HandleClosed();

  uv_loop_t* loop_;
  spdlog::logger& log_;
  TailerOptions options_;
  MemoryBudget& budget_;
  AckTracker& acks_;
  BatchSink& sink_;
  LineFramer framer_;
  TailerCounters counters_;

  uv_timer_t scan_timer_{};
  uv_timer_t pass_timer_{};
  bool first_scan_ = true;
  bool pass_scheduled_ = false;
  bool stopping_ = false;
  int open_handles_ = 0;
  int budget_waiter_ = 0;
  std::function<void()> on_closed_;
  std::map<FileKey, std::unique_ptr<File>> files_;
  std::set<std::string> warned_;  // paths already reported, so a bad file is logged once, not every scan
};

}  // namespace ferry
