// StreamSource: reading inputs to their end, decompressing and framing them into batches.
#include "agent/source/stream_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "agent/core/errno_text.h"
#include "agent/core/uv_handle.h"
#include "agent/source/file_identity.h"

namespace ferry {
namespace {

// Arena block for what later stages add to a batch (partition keys); the read buffer gets its own.
constexpr std::size_t kSmallBlockBytes = 256;

}  // namespace

struct StreamSource::Input {
  StreamInput file;
  SourceId id = 0;
  Watermark acked;
  std::uint64_t read = 0;      // input bytes read
  std::uint64_t produced = 0;  // decompressed bytes: the offset of the next one
  std::uint64_t framed = 0;    // the end of the last batch made: every byte before it was framed
  std::string pending;         // input bytes read, not yet decompressed (from pending_at)
  std::size_t pending_at = 0;
  std::string carry;                          // decompressed bytes of an unfinished record
  std::shared_ptr<const std::string> origin;  // the name, shared by the input's batches
  FramerState framer;
  std::unique_ptr<Decompressor> decompressor;  // made once the first bytes tell the format
  bool more_output = false;                    // the decompressor filled its output: it may hold more
  bool eof = false;
  bool done = false;
  // Pipes, sockets and terminals.
  uv_stream_t* stream = nullptr;
  bool reading = false;
};

Result<std::vector<StreamInput>> OpenStreamInputs(const std::vector<std::string>& paths) {
  std::vector<StreamInput> inputs;
  auto fail = [&inputs](std::string message) {
    for (auto& in : inputs) {
      if (in.fd > STDIN_FILENO) ::close(in.fd);
    }
    return Error(ErrorCode::kInvalidArgument, std::move(message));
  };
  bool stdin_named = false;
  for (const std::string& path : paths.empty() ? std::vector<std::string>{"-"} : paths) {
    StreamInput in;
    if (path == "-") {
      if (stdin_named) return fail("-: standard input can be named only once");
      stdin_named = true;
      in.name = "standard input";
      in.fd = ::dup(STDIN_FILENO);
      if (in.fd < 0) return fail(fmt::format("standard input: {}", ErrnoText(errno)));
    } else {
      in.name = path;
      in.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (in.fd < 0) return fail(fmt::format("{}: cannot open: {}", path, ErrnoText(errno)));
    }
    ::fcntl(in.fd, F_SETFD, FD_CLOEXEC);
    struct stat st {};
    if (::fstat(in.fd, &st) != 0) {
      const int err = errno;
      ::close(in.fd);
      return fail(fmt::format("{}: cannot stat: {}", in.name, ErrnoText(err)));
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(in.fd);
      return fail(fmt::format("{}: is a directory", in.name));
    }
    in.regular = S_ISREG(st.st_mode);
    in.size = in.regular ? static_cast<std::uint64_t>(st.st_size) : 0;
    if (in.regular) {
      char start[kFileIdentityStartBytes];
      const ssize_t n = ::pread(in.fd, start, sizeof start, 0);
      in.file_id = FileIdentity(st.st_dev, st.st_ino, {start, n > 0 ? static_cast<std::size_t>(n) : 0});
    }
    inputs.push_back(std::move(in));
  }
  return inputs;
}

StreamSource::StreamSource(uv_loop_t* loop, spdlog::logger& log, const Clock& clock,
                           StreamSourceOptions options, std::vector<StreamInput> inputs, RecordFramer framer,
                           MemoryBudget& budget, BatchSink& sink)
    : loop_(loop),
      log_(log),
      clock_(clock),
      options_(std::move(options)),
      framer_(std::move(framer)),
      budget_(budget),
      sink_(sink) {
  SourceId id = 1;
  for (auto& file : inputs) {
    auto in = std::make_unique<Input>();
    in->file = std::move(file);
    in->id = id++;
    in->framer = framer_.NewFileState(true);
    inputs_.push_back(std::move(in));
  }
  uv_timer_init(loop_, &pass_timer_);
  pass_timer_.data = this;
  ++open_handles_;
}

StreamSource::~StreamSource() {
  if (budget_waiter_ != 0) budget_.RemoveWaiter(budget_waiter_);
  for (auto& in : inputs_) {
    if (in->file.fd >= 0) ::close(in->file.fd);
  }
}

void StreamSource::Start() {
  if (started_) return;
  started_ = true;
  budget_waiter_ = budget_.AddWaiter([this] {
    if (!waiting_for_room_) return;
    waiting_for_room_ = false;
    SchedulePass();
  });
  SchedulePass();
}

void StreamSource::SchedulePass() {
  if (stopping_ || pass_scheduled_) return;
  pass_scheduled_ = true;
  uv_timer_start(
      &pass_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<StreamSource*>(t->data);
        self->pass_scheduled_ = false;
        self->Pass();
      },
      0, 0);
}

void StreamSource::Pass() {
  if (stopping_ || ended()) return;
  Input& in = *inputs_[current_];
  if (!Drain(in)) return;  // out of room: the budget's waiter schedules the next pass
  if (in.done) {
    Next();
    return;
  }
  if (in.eof) {
    Finish(in);  // what the decompressor could not use is a truncated tail: Finish says so
    return;
  }
  if (!in.file.regular && in.stream == nullptr) {
    const uv_handle_type kind = uv_guess_handle(in.file.fd);
    if (kind == UV_NAMED_PIPE || kind == UV_TTY || kind == UV_TCP) {
      StartStream(in);
      return;
    }
  }
  if (in.stream != nullptr) {
    if (!in.reading) {
      // Room again (or the first time): read on.
      in.reading = true;
      uv_read_start(
          in.stream,
          [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            auto* self = static_cast<StreamSource*>(h->data);
            buf->base = self->read_buffer_.data();
            buf->len = self->read_buffer_.size();
          },
          [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
            static_cast<StreamSource*>(s->data)->OnStreamRead(nread, buf);
          });
    }
    return;
  }
  // One chunk per pass, so sockets and timers are served between them; the next pass frames it.
  ReadFile(in);
  SchedulePass();
}

bool StreamSource::ReadFile(Input& in) {
  const std::size_t want = options_.read_chunk_bytes;
  in.pending.erase(0, in.pending_at);
  in.pending_at = 0;
  const std::size_t had = in.pending.size();
  in.pending.resize(had + want);
  ssize_t n;
  do {
    n = in.file.regular ? ::pread(in.file.fd, in.pending.data() + had, want, static_cast<off_t>(in.read))
                        : ::read(in.file.fd, in.pending.data() + had, want);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    in.pending.resize(had);
    Fail(in, fmt::format("read failed at byte {}: {}", in.read, ErrnoText(errno)));
    return false;
  }
  in.pending.resize(had + static_cast<std::size_t>(n));
  if (n == 0) {
    in.eof = true;
    return false;
  }
  in.read += static_cast<std::uint64_t>(n);
  counters_.input_bytes += static_cast<std::uint64_t>(n);
  return true;
}

void StreamSource::StartStream(Input& in) {
  read_buffer_.resize(options_.read_chunk_bytes);
  int kind = uv_guess_handle(in.file.fd);
  int rc;
  if (kind == UV_TTY) {
    auto* tty = new uv_tty_t{};
    rc = uv_tty_init(loop_, tty, in.file.fd, 1);
    in.stream = reinterpret_cast<uv_stream_t*>(tty);
  } else {
    auto* pipe = new uv_pipe_t{};
    rc = uv_pipe_init(loop_, pipe, 0);
    if (rc == 0) rc = uv_pipe_open(pipe, in.file.fd);
    in.stream = reinterpret_cast<uv_stream_t*>(pipe);
  }
  in.stream->data = this;
  ++open_handles_;
  if (rc != 0) {
    Fail(in, fmt::format("cannot read: {}", uv_strerror(rc)));
    Next();
    return;
  }
  SchedulePass();
}

void StreamSource::OnStreamRead(ssize_t nread, const uv_buf_t* buf) {
  if (ended()) return;
  Input& in = *inputs_[current_];
  if (nread == UV_EOF) {
    in.eof = true;
  } else if (nread < 0) {
    Fail(in, fmt::format("read failed at byte {}: {}", in.read, uv_strerror(static_cast<int>(nread))));
    Next();
    return;
  } else if (nread > 0) {
    in.pending.erase(0, in.pending_at);
    in.pending_at = 0;
    in.pending.append(buf->base, static_cast<std::size_t>(nread));
    in.read += static_cast<std::uint64_t>(nread);
    counters_.input_bytes += static_cast<std::uint64_t>(nread);
  }
  if (!Drain(in)) {
    // Out of room: the writer waits until batches are acknowledged.
    uv_read_stop(in.stream);
    in.reading = false;
    return;
  }
  if (in.done) {
    Next();
    return;
  }
  if (in.eof) {
    uv_read_stop(in.stream);
    in.reading = false;
    Finish(in);
  }
}

bool StreamSource::Drain(Input& in) {
  const std::size_t chunk = options_.read_chunk_bytes;
  while (!in.done && (in.pending_at < in.pending.size() || in.more_output)) {
    if (in.decompressor == nullptr) {
      // The first bytes tell the format; a few more may be needed for a short magic number.
      if (in.pending.size() - in.pending_at < 4 && !in.eof && !options_.compression) return true;
      InputCompression format = options_.compression.value_or(
          DetectCompression(std::string_view(in.pending).substr(in.pending_at)));
      auto made = Decompressor::Create(format);
      if (!made) {
        Fail(in, made.error().message());
        return true;
      }
      in.decompressor = std::move(*made);
      if (format != InputCompression::kNone) {
        log_.info("flow {}: {} is {}-compressed; reading it decompressed", options_.flow, in.file.name,
                  CompressionName(format));
      }
    }
    if (!budget_.Fits(chunk + in.carry.size())) {
      waiting_for_room_ = true;
      budget_.MarkStarved();
      return false;
    }
    const std::size_t carried = in.carry.size();
    BatchRef batch = NewBatch(in, in.produced - carried);
    char* buf = batch->arena().Allocate(carried + chunk);
    std::memcpy(buf, in.carry.data(), carried);
    auto step =
        in.decompressor->Run(std::string_view(in.pending).substr(in.pending_at), {buf + carried, chunk});
    if (!step) {
      Fail(in, step.error().message());
      return true;
    }
    in.pending_at += step->consumed;
    in.more_output = step->produced == chunk;
    if (step->produced == 0) break;  // needs more input
    in.produced += step->produced;
    counters_.bytes += step->produced;
    const std::size_t total = carried + step->produced;
    FramingCounters framing;
    const std::size_t consumed =
        framer_.Frame({buf, total}, batch->start_offset(), in.framer, batch->records(), framing);
    counters_.framing += framing;
    counters_.records += framing.records;
    in.carry.assign(buf + consumed, total - consumed);
    batch->set_end_offset(batch->start_offset() + consumed);
    in.framed = batch->end_offset();
    const bool has_records = !batch->records().empty();
    batch->Seal();
    if (has_records) sink_.Accept(std::move(batch));
  }
  return true;
}

BatchRef StreamSource::NewBatch(Input& in, std::uint64_t start_offset) {
  BatchRef batch(new Batch(in.id, start_offset, this, kSmallBlockBytes, &budget_));
  if (!in.origin) in.origin = std::make_shared<const std::string>(in.file.name);
  batch->set_origin(in.origin);
  batch->set_read_time_ms(clock_.UnixMilliseconds());
  batch->set_file_id(in.file.file_id);
  return batch;
}

void StreamSource::Finish(Input& in) {
  if (in.done) return;
  if (in.decompressor != nullptr) {
    if (Status whole = in.decompressor->Finish(); !whole) {
      Fail(in, whole.error().message());
      Next();
      return;
    }
  }
  // The last line needs no newline: the input is over.
  if (!in.carry.empty() || framer_.HasPendingRecord(in.framer)) {
    BatchRef batch = NewBatch(in, in.produced - in.carry.size());
    std::string_view data = batch->arena().Copy(in.carry);
    FramingCounters framing;
    framer_.Flush(data, batch->start_offset(), in.framer, batch->records(), framing);
    counters_.framing += framing;
    counters_.records += framing.records;
    in.carry.clear();
    batch->set_end_offset(in.produced);
    in.framed = in.produced;
    const bool has_records = !batch->records().empty();
    batch->Seal();
    if (has_records) sink_.Accept(std::move(batch));
  }
  in.done = true;
  ++counters_.inputs_done;
  Next();
}

void StreamSource::Fail(Input& in, const std::string& why) {
  if (in.done) return;
  in.done = true;
  ++counters_.inputs_done;
  ++counters_.input_errors;
  std::string line = fmt::format("{}: {}", in.file.name, why);
  log_.error("flow {}: {}; the records read before it are sent", options_.flow, line);
  errors_.push_back(std::move(line));
  // The records framed so far go on; an unfinished last record is not sent (it may be cut by the damage).
  in.carry.clear();
  if (in.stream != nullptr && in.reading) {
    uv_read_stop(in.stream);
    in.reading = false;
  }
}

void StreamSource::Next() {
  if (ended()) return;
  if (!inputs_[current_]->done) return;
  ++current_;
  if (ended()) {
    if (on_end_) {
      // From the loop, never from inside Start() or a read callback of the caller's.
      uv_timer_start(
          &pass_timer_,
          [](uv_timer_t* t) {
            auto* self = static_cast<StreamSource*>(t->data);
            if (self->on_end_) self->on_end_();
          },
          0, 0);
    }
    return;
  }
  SchedulePass();
}

void StreamSource::OnBatchDone(SourceId source, std::uint64_t start_offset, std::uint64_t end_offset) {
  if (source == 0 || source > inputs_.size()) return;
  inputs_[source - 1]->acked.Finish(start_offset, end_offset);
}

bool StreamSource::all_acknowledged() const {
  if (!ended()) return false;
  for (const auto& in : inputs_) {
    if (in->acked.committed() < in->framed) return false;
  }
  return true;
}

void StreamSource::HandleClosed() {
  if (--open_handles_ == 0 && on_stopped_) {
    auto done = std::move(on_stopped_);
    done();
  }
}

void StreamSource::Stop(std::function<void()> on_stopped) {
  if (stopping_) {
    on_stopped();
    return;
  }
  stopping_ = true;
  on_stopped_ = std::move(on_stopped);
  CloseHandle(&pass_timer_, [this] { HandleClosed(); });
  for (auto& in : inputs_) {
    if (in->stream == nullptr) continue;
    CloseHandle(in->stream, [this, h = in->stream] {
      // The handle was made with new as a uv_tty_t or a uv_pipe_t.
      if (h->type == UV_TTY) {
        delete reinterpret_cast<uv_tty_t*>(h);
      } else {
        delete reinterpret_cast<uv_pipe_t*>(h);
      }
      HandleClosed();
    });
    // A pipe's descriptor is closed with its handle; a terminal's handle reopened the device, so the
    // descriptor stays ours to close.
    if (in->stream->type != UV_TTY) in->file.fd = -1;
    in->stream = nullptr;
  }
}

void StreamSource::AppendCounters(std::vector<NamedCounter>& out) const {
  out.insert(out.end(),
             {
                 {"inputs", inputs_.size()},
                 {"inputs_done", counters_.inputs_done},
                 {"input_errors", counters_.input_errors},
                 {"input_bytes", counters_.input_bytes},
                 {"bytes_read", counters_.bytes},
                 {"records_read", counters_.records},
                 {"oversize_records", counters_.framing.split_records + counters_.framing.truncated_records},
                 {"truncated_bytes", counters_.framing.truncated_bytes},
                 {"empty_lines", counters_.framing.empty_lines},
                 {"header_lines", counters_.framing.header_lines},
                 {"multiline_records", counters_.framing.multiline_records},
             });
}

std::string StreamSource::Summary() const {
  return fmt::format("inputs {} of {} read, bytes read {}, records read {} (split {}, empty lines {})",
                     counters_.inputs_done, inputs_.size(), counters_.bytes, counters_.records,
                     counters_.framing.split_records, counters_.framing.empty_lines);
}

std::vector<TailedFileStatus> StreamSource::Files() const {
  std::vector<TailedFileStatus> out;
  out.reserve(inputs_.size());
  for (const auto& in : inputs_) {
    TailedFileStatus s;
    s.path = in->file.name;
    s.offset = in->read;
    s.size = in->file.size;
    s.committed = in->acked.committed();
    s.open = !in->done && in->read > 0;
    s.figures.bytes_read = in->produced;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ferry
