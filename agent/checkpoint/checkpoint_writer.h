// CheckpointWriter: writes one flow's checkpoint files on libuv's thread pool (uv_queue_work), so that no
// blocking disk call (write, fsync, rename, the folder's fsync) runs on the loop thread: a slow SD card
// stalls a pool thread, never reading, sending or `ferry status`.
//
// Hand-over: the text is made on the loop and moved into the request by value, with a copy of the file
// name; the pool thread touches nothing else, and the outcome comes back on the loop in the request's
// completion. One write is in flight at a time: Write() may be called only while !busy(), and the caller
// coalesces what it wants written meanwhile into its next write (FileTailer does).
//
// Lifetime: a write in flight when the writer is destroyed still finishes (a pool thread cannot be stopped
// in a system call); its outcome is then dropped. The loop keeps running until it has (uv_run does not
// return while a request is active), so the daemon's last checkpoint is on disk before ferry exits.
// Loop thread only; the Store function runs on a pool thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/result.h"

namespace ferry {

class CheckpointWriter {
 public:
  struct Outcome {
    Status status;
    bool durable = false;
    std::uint64_t cpu_ns = 0;  // CPU time of the pool thread for the write (waiting for fsync is not CPU)
  };
  // Writes text to file, fsync'd or not; WriteCheckpointFile by default. It must be safe to call from any
  // thread. Tests pass one that is slow or fails.
  using Store = std::function<Status(const std::string& file, std::string_view text, bool durable)>;

  // path: the durable checkpoint file; recent writes go to RecentCheckpointPath(path). on_done runs on
  // the loop after each write, with its outcome.
  CheckpointWriter(uv_loop_t* loop, std::string path, std::function<void(const Outcome&)> on_done,
                   Store store = WriteCheckpointFile);
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Starts writing text: to the durable file with fsync (durable), or to the recent file without.
  // Only while !busy().
  void Write(std::string text, bool durable);
  bool busy() const { return in_flight_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  struct Request;
  static void Work(uv_work_t* req);
  static void AfterWork(uv_work_t* req, int status);

  uv_loop_t* loop_;
  std::string path_;
  std::string recent_path_;
  std::function<void(const Outcome&)> on_done_;
  std::shared_ptr<const Store> store_;  // shared with the request, which may outlive the writer
  Request* in_flight_ = nullptr;
};

}  // namespace ferry
