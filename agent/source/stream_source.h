// StreamSource: reads files or standard input once, to their end, for `ferry send`; no state_dir, no
// checkpoints, no status socket: what was read is sent and acknowledged, or the command says what was not.
//
// Inputs are read one after another, each framed by the flow's RecordFramer (multiline and size rules).
// A compressed input (gzip or zstd, told by its first bytes, or forced) is decompressed as it is read, a
// piece at a time. Regular files and character devices are read with pread/read on the loop (the page
// cache answers); pipes, sockets and terminals through libuv streams, so a slow writer never blocks the
// loop. Reading pauses while the flow's memory budget is spent, like the tailer's; a pipe is then not
// read, so its writer waits. The last line of an input is sent even without a newline.
//
// Offsets: each input is one source (SourceId) whose offsets count its decompressed bytes; batches report
// to this object, which keeps one watermark per input, so `acknowledged()` tells how much of each input
// the endpoint has. Errors (a read failing, damaged compressed data) end that input: what was read before
// is still sent, and the error is kept for the command's summary. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/checkpoint/watermark.h"
#include "agent/core/batch_sink.h"
#include "agent/core/clock.h"
#include "agent/core/memory_budget.h"
#include "agent/source/decompressor.h"
#include "agent/source/record_framer.h"
#include "agent/source/source.h"

namespace ferry {

// One input, opened before the flow exists so a missing or unreadable file stops the command before it
// sends anything.
struct StreamInput {
  std::string name;  // the path, or "standard input"
  int fd = -1;       // owned by the source once built
  bool regular = false;
  std::uint64_t size = 0;  // regular files: the size at open; else 0 (unknown)
  // Regular files: FileIdentity, as the tailer gives the same file, so a record sent again by hand has the
  // record_id the daemon gave it. Else 0: a pipe's offsets restart every run, so its records get no id.
  std::uint64_t file_id = 0;
};

// Opens each path ("-" is standard input, which may be named once). Errors name the path and the reason:
// missing, a directory, permission denied.
Result<std::vector<StreamInput>> OpenStreamInputs(const std::vector<std::string>& paths);

struct StreamSourceOptions {
  std::string flow;                             // names the flow in log lines
  std::optional<InputCompression> compression;  // none set: told by each input's first bytes
  std::size_t read_chunk_bytes = 256 << 10;
};

struct StreamCounters {
  std::uint64_t input_bytes = 0;  // read from the inputs (compressed bytes for compressed inputs)
  std::uint64_t bytes = 0;        // after decompression
  std::uint64_t records = 0;
  std::uint64_t inputs_done = 0;  // read to their end (or failed)
  std::uint64_t input_errors = 0;
  FramingCounters framing;
};

class StreamSource : public Source, private AckSink {
 public:
  StreamSource(uv_loop_t* loop, spdlog::logger& log, const Clock& clock, StreamSourceOptions options,
               std::vector<StreamInput> inputs, RecordFramer framer, MemoryBudget& budget, BatchSink& sink);
  ~StreamSource() override;
  StreamSource(const StreamSource&) = delete;
  StreamSource& operator=(const StreamSource&) = delete;

  void Start() override;
  void Stop(std::function<void()> on_stopped) override;
  void Persist(std::function<void()> done) override { done(); }
  void AppendCounters(std::vector<NamedCounter>& out) const override;
  std::string Summary() const override;
  // Per input: offset and size in input bytes (progress), committed in decompressed bytes acknowledged.
  std::vector<TailedFileStatus> Files() const override;

  // Runs (from the loop) once every input has been read to its end or has failed.
  void set_on_end(std::function<void()> on_end) { on_end_ = std::move(on_end); }
  bool ended() const { return current_ >= inputs_.size(); }
  // Whether every byte read has been acknowledged (and every input ended).
  bool all_acknowledged() const;
  const StreamCounters& counters() const { return counters_; }
  // One line per input that failed: "app.log.gz: gzip data ends in the middle of a member (truncated)".
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  struct Input;

  void OnBatchDone(SourceId source, std::uint64_t start_offset, std::uint64_t end_offset) override;
  void SchedulePass();
  void Pass();
  // Turns pending input of the current input into batches while the budget has room; false when it ran
  // out of room (a waiter resumes).
  bool Drain(Input& in);
  // Reads the next chunk of a file input into its pending bytes; false at its end.
  bool ReadFile(Input& in);
  void StartStream(Input& in);
  void OnStreamRead(ssize_t nread, const uv_buf_t* buf);
  void Finish(Input& in);
  void Fail(Input& in, const std::string& why);
  void Next();
  void HandleClosed();

  // A batch of input in: its origin, read time and file identity.
  BatchRef NewBatch(Input& in, std::uint64_t start_offset);

  uv_loop_t* loop_;
  spdlog::logger& log_;
  const Clock& clock_;
  StreamSourceOptions options_;
  RecordFramer framer_;
  MemoryBudget& budget_;
  BatchSink& sink_;
  std::vector<std::unique_ptr<Input>> inputs_;
  std::size_t current_ = 0;
  StreamCounters counters_;
  std::vector<std::string> errors_;
  std::function<void()> on_end_;
  uv_timer_t pass_timer_{};
  bool pass_scheduled_ = false;
  bool started_ = false;
  bool stopping_ = false;
  bool waiting_for_room_ = false;
  int budget_waiter_ = 0;
  int open_handles_ = 0;
  std::function<void()> on_stopped_;
  std::vector<char> read_buffer_;  // what a stream's read lands in before it joins the pending bytes
};

}  // namespace ferry
