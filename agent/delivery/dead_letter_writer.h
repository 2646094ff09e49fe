// DeadLetterWriter: keeps the records an endpoint will never take (ErrorClass::kPermanent) in a JSON-lines
// file under the state folder, durable before Write reports success, so the sender can acknowledge them
// without losing them and an operator can inspect or replay them.
//
// Off the loop: Write formats the lines on the loop and queues them; opening the file (and creating its
// folder), write(2), fdatasync and the folder's fsync run in a job on libuv's thread pool, one job at a
// time, in order. Lines queued while a job runs go together in the next one, with one fdatasync (group
// commit). A job owns what it works on: the lines (moved in), the open file's descriptor and state (moved
// in, and back out when it is done) and the paths; nothing else crosses threads.
//
// One JSON object per line, fields in this order:
//   {"time":"2026-11-26T15:04:05.123Z","flow":...,"destination":...,"error_code":...,"error_message":...,
//    "partition_key":...,"explicit_hash_key":... (only when set),"user_records":N,"data":...}
// "data" holds the record as a JSON string when it is valid UTF-8 without NUL bytes; otherwise the line
// has "data_base64" (standard base64) instead. Text fields that are not valid UTF-8 have each bad byte
// replaced by U+FFFD, so every line is valid JSON.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/pool_runner.h"
#include "agent/core/result.h"

namespace ferry {

struct DeadLetter {
  std::string_view flow;
  std::string_view destination;  // e.g. "Kinesis stream 'web'"
  std::string_view error_code;
  std::string_view error_message;
  std::string_view partition_key;
  std::string_view explicit_hash_key;  // empty: none
  std::string_view data;               // raw bytes (may be binary)
  std::uint32_t user_records = 1;
};

// One writer per flow. Loop thread only (its jobs run on the pool, see above).
class DeadLetterWriter {
 public:
  // Makes written data durable: fdatasync(2) by default. Tests pass one that is slow or fails (it returns
  // -1 and sets errno then). Called on a pool thread.
  using SyncCall = std::function<int(int fd)>;
  // Called once per Write, on the loop.
  using Done = std::function<void(Status)>;

  // folder: <state_dir>/dead-letter, created (mode 0750, with its parents) at the first write. The file is
  // <folder>/<file_stem>.jsonl; the caller makes file_stem safe as a file name. now_ms: wall clock, unix ms.
  DeadLetterWriter(uv_loop_t* loop, std::string folder, std::string file_stem,
                   std::function<std::int64_t()> now_ms, SyncCall sync = {});
  // A job still running finishes on its own (pool_runner.h); lines still queued are not written and their
  // `done` is not called.
  ~DeadLetterWriter();
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  // Formats one line per letter now (the letters need not outlive the call), appends them to the file and
  // fdatasyncs it (and, after creating it, its folder); then done(Ok). All or nothing: on an error the file
  // is cut back to its size before the job, and done gets the error, which names the path and the errno
  // ("No space left on device (ENOSPC)"). Writes grouped into one job succeed or fail together. Writes
  // complete in the order they were made. Without letters, done(Ok) runs at once.
  void Write(std::span<const DeadLetter> letters, Done done);

  // Lines that cannot be written to the file are written to fd instead (write(2), no sync) and count as
  // written: `ferry send` gives standard error, so a refused record is never only in memory. -1: none.
  void set_fallback_fd(int fd) { fallback_fd_ = fd; }
  std::uint64_t fallen_back() const { return fallen_back_; }  // letters written to the fallback
  // Why the file could not be written, the last time it could not.
  const std::string& file_error() const { return file_error_; }

  bool idle() const { return !runner_.busy(); }
  // Calls idle_done once no write is running or queued (at once if none is): a flow that closes waits for
  // it, so a writer opened next on the same file does not write beside this one.
  void WhenIdle(std::function<void()> idle_done);
  std::uint64_t written() const { return written_; }  // letters written so far
  const std::string& path() const { return path_; }

 private:
  // The open file, owned by whichever side (the loop, or the job running) has it.
  struct File {
    int fd = -1;
    bool folder_sync_pending = false;  // the file was created and its folder entry is not yet durable
    bool newline_pending = false;      // the file ends inside a line (a crash mid-write, a failed cut)
    File() = default;
    File(File&& other) noexcept
        : fd(std::exchange(other.fd, -1)),
          folder_sync_pending(other.folder_sync_pending),
          newline_pending(other.newline_pending) {}
    File& operator=(File&& other) noexcept;
    ~File();
  };
  struct Queued {
    std::size_t letters = 0;
    Done done;
  };
  struct WriteJob;

  void Pump();
  void OnJobDone(std::unique_ptr<WriteJob> job);

  PoolRunner runner_;
  std::string folder_;
  std::string path_;
  std::function<std::int64_t()> now_ms_;
  SyncCall sync_;
  std::optional<File> file_;  // while no job has it
  std::string queued_text_;   // the lines of the Writes in queued_
  std::vector<Queued> queued_;
  std::vector<Queued> writing_;  // the running job's Writes
  std::uint64_t written_ = 0;
  int fallback_fd_ = -1;
  std::uint64_t fallen_back_ = 0;
  std::string file_error_;
};

}  // namespace ferry
