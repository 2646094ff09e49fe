// FileTailer's checkpoints: loading them at start, and writing the acknowledged offsets: recent writes as
// acknowledgements move (paced), durable ones every checkpoint_interval and at shutdown. The set is built
// and serialised here on the loop; CheckpointWriter writes it on the thread pool.
#include <unistd.h>

#include <algorithm>

#include "agent/source/file_tailer.h"
#include "agent/source/tailed_file.h"

namespace ferry {

void FileTailer::LoadCheckpoints() {
  if (!writer_) return;
  const std::string& path = options_.checkpoint_path;
  auto loaded = LoadLatestCheckpoints(path);
  if (!loaded) {
    // Never guess offsets from a damaged file: keep it for a person, and read every file from its start.
    // That may send lines again, but loses none.
    std::string moved;
    if (loaded.error().code() == ErrorCode::kProtocol) {
      for (const std::string& file : {path, RecentCheckpointPath(path)}) {
        if (::access(file.c_str(), F_OK) != 0) continue;
        std::string to;
        (void)QuarantineCheckpoints(file, clock_.UnixSeconds(), &to);
        if (!to.empty()) moved += (moved.empty() ? "" : ", ") + to;
      }
    }
    log_.error("flow {}: {}{}; every file is read from its start", options_.flow, loaded.error().message(),
               moved.empty() ? "" : "; moved it to " + moved);
    first_start_ = false;
    return;
  }
  if (!loaded->recent_problem.empty()) {
    log_.warn(
        "flow {}: {}; using {} (recent checkpoints are written without fsync, so a power loss may damage "
        "them; the durable one is at most checkpoint_interval older)",
        options_.flow, loaded->recent_problem, path);
  }
  if (loaded->durable_error) {
    std::string moved;
    if (loaded->durable_error->code() == ErrorCode::kProtocol) {
      (void)QuarantineCheckpoints(path, clock_.UnixSeconds(), &moved);
    }
    log_.error("flow {}: {}{}; using {}", options_.flow, loaded->durable_error->message(),
               moved.empty() ? "" : "; moved it to " + moved, loaded->read_from);
  }
  if (!loaded->set) return;
  first_start_ = false;
  sequence_ = loaded->set->sequence;
  checkpoints_ = std::move(loaded->set->files);
  claimed_.assign(checkpoints_.size(), false);
  log_.info("flow {}: {} checkpoints loaded from {}", options_.flow, checkpoints_.size(), loaded->read_from);
}

std::uint64_t FileTailer::CheckpointAfterBytes() const {
  if (options_.checkpoint_after_bytes > 0) return options_.checkpoint_after_bytes;
  return std::max<std::uint64_t>(budget_.limit() / 4, 1);
}

void FileTailer::OnAcked(std::uint64_t bytes) {
  acked_bytes_ += bytes;
  Changed();
  if (acked_bytes_ - acked_at_write_ >= CheckpointAfterBytes()) WantCheckpoint(Want::kRecent);
}

void FileTailer::WantCheckpoint(Want want) {
  if (!writer_) return;
  want_ = std::max(want_, want);
  if (writer_->busy()) return;  // the write in flight pumps again when it is done
  if (want_ == Want::kRecent && !stopping_) {
    // Called from inside an acknowledgement: the write starts from the timer, on a clean stack, and not
    // before the pace allows.
    if (pace_armed_) return;
    pace_armed_ = true;
    const std::uint64_t now = Now();
    uv_timer_start(
        &pace_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<FileTailer*>(t->data);
          self->pace_armed_ = false;
          self->PumpCheckpoints();
        },
        next_recent_at_ > now ? next_recent_at_ - now : 0, 0);
    return;
  }
  PumpCheckpoints();
}

void FileTailer::PumpCheckpoints() {
  if (!writer_ || writer_->busy()) return;
  const bool durable = want_ == Want::kDurable;
  if (want_ == Want::kNone ||
      (durable ? generation_ == synced_generation_ : generation_ == written_generation_)) {
    // Nothing (more) to write: whoever waits for a durable write has what they asked for.
    want_ = Want::kNone;
    if (generation_ == synced_generation_) {
      auto waiters = std::move(sync_waiters_);
      sync_waiters_.clear();
      for (auto& done : waiters) done();
    }
    return;
  }
  if (!durable && !stopping_ && Now() < next_recent_at_) {
    WantCheckpoint(Want::kRecent);  // arms the pace timer
    return;
  }
  want_ = Want::kNone;
  const std::uint64_t began = uv_hrtime();
  CheckpointSet set = BuildCheckpoints();
  std::string text = SerializeCheckpoints(set);
  build_ns_ = uv_hrtime() - began;
  issued_generation_ = generation_;
  acked_at_write_ = acked_bytes_;
  if (durable) {
    synced_ = std::move(sync_waiters_);
    sync_waiters_.clear();
  }
  writer_->Write(std::move(text), durable);
}

void FileTailer::OnCheckpointWritten(const CheckpointWriter::Outcome& outcome) {
  const std::uint64_t now = Now();
  const std::uint64_t cost_ns = build_ns_ + outcome.cpu_ns;
  counters_.checkpoint_cpu_ns += cost_ns;
  if (outcome.status.ok()) {
    ++counters_.checkpoint_writes;
    written_generation_ = std::max(written_generation_, issued_generation_);
    acked_written_ = acked_at_write_;
    written_at_ = now;
    if (outcome.durable) {
      ++counters_.checkpoint_syncs;
      synced_generation_ = issued_generation_;
    }
    if (write_failing_) log_.info("flow {}: checkpoints are written again", options_.flow);
    write_failing_ = false;
    // The pace: the next recent write waits kCheckpointPaceFactor times what this one cost in CPU.
    next_recent_at_ = now + (cost_ns * kCheckpointPaceFactor + 999'999) / 1'000'000;
  } else {
    ++counters_.checkpoint_errors;
    if (!write_failing_) log_.error("flow {}: {}", options_.flow, outcome.status.error().message());
    write_failing_ = true;
    // What this write held is still to be written; a failing disk is asked again at the next interval.
    acked_at_write_ = acked_written_;
    next_recent_at_ = now + static_cast<std::uint64_t>(options_.checkpoint_interval.count());
  }
  auto answered = std::move(synced_);
  synced_.clear();
  PumpCheckpoints();  // what was wanted while this write was in flight
  for (auto& done : answered) done();
}

void FileTailer::SaveCheckpoints(std::function<void()> done) {
  if (!writer_) {
    if (done) done();
    return;
  }
  sync_waiters_.push_back(done ? std::move(done) : [] {});
  WantCheckpoint(Want::kDurable);
}

CheckpointSet FileTailer::BuildCheckpoints() {
  DropAcknowledged();
  CheckpointSet set;
  set.flow = options_.flow;
  set.sequence = ++sequence_;
  const std::int64_t now = clock_.UnixSeconds();
  set.files.reserve(files_.size() + retained_.size() + checkpoints_.size());
  // Followed files first: were a retained or loaded entry to share one's inode, this one is matched first.
  for (const auto& [key, file] : files_) {
    if (file->held || file->undecided) continue;
    set.files.push_back(FileCheckpoint{static_cast<std::uint64_t>(key.first),
                                       static_cast<std::uint64_t>(key.second), file->fingerprint, file->path,
                                       acks_.committed(file->source), now});
  }
  for (const Retained& r : retained_) {
    set.files.push_back(FileCheckpoint{static_cast<std::uint64_t>(r.key.first),
                                       static_cast<std::uint64_t>(r.key.second), r.fingerprint, r.path,
                                       acks_.committed(r.source), now});
  }
  // Checkpoints not matched yet (before the first scan ends) are kept as they were.
  for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
    if (!claimed_[i]) set.files.push_back(checkpoints_[i]);
  }
  return set;
}

}  // namespace ferry
