// PluginChain: hands batches through the stages in order and applies each plugin's verdicts.
#include "agent/pipeline/plugin_chain.h"

#include <uv.h>

#include <fmt/format.h>

#include "agent/core/callback_join.h"

namespace ferry {

PluginChain::PluginChain(BatchSink& next, std::size_t max_record_bytes, RejectSink rejects,
                         MemoryBudget* budget)
    : next_(next), max_record_bytes_(max_record_bytes), rejects_(std::move(rejects)), budget_(budget) {}

PluginChain::~PluginChain() {
  *alive_ = false;
  if (budget_ != nullptr && reliever_ != 0) budget_->RemoveReliever(reliever_);
}

void PluginChain::Add(PluginStage stage) {
  auto s = std::make_unique<Stage>();
  s->config = std::move(stage);
  stages_.push_back(std::move(s));
  if (budget_ != nullptr && reliever_ == 0) {
    reliever_ = budget_->AddReliever([this] {
      for (auto& st : stages_) st->config.plugin->Relieve();
    });
  }
}

std::uint64_t PluginChain::dropped() const {
  std::uint64_t n = 0;
  for (const auto& s : stages_) n += s->counters.dropped;
  return n + dead_lettered();
}

std::uint64_t PluginChain::dead_lettered() const {
  std::uint64_t n = 0;
  for (const auto& s : stages_) n += s->counters.dead_lettered;
  return n + counters_.oversize_dead_lettered;
}

void PluginChain::Accept(BatchRef batch) {
  if (stages_.empty()) {
    next_.Accept(std::move(batch));
    return;
  }
  ++in_flight_;
  Enter(0, std::move(batch));
}

void PluginChain::Enter(std::size_t stage, BatchRef batch) {
  if (stage == stages_.size()) {
    Leave(std::move(batch));
    return;
  }
  Stage& s = *stages_[stage];
  if (s.busy >= std::max<std::size_t>(s.config.plugin->max_in_flight(), 1) || !s.waiting.empty()) {
    s.waiting.push_back(std::move(batch));
    return;
  }
  Start(stage, std::move(batch));
}

void PluginChain::Start(std::size_t stage, BatchRef batch) {
  Stage& s = *stages_[stage];
  s.counters.records_in += batch->records().size();
  std::weak_ptr<bool> alive = alive_;
  auto work = std::make_unique<PluginBatch>(std::move(batch), [this, stage, alive](PluginBatch& done) {
    if (!alive.expired()) OnDone(stage, done);
  });
  work->started_ns_ = uv_hrtime();
  PluginBatch& ref = *work;
  s.order.push_back(std::move(work));
  ++s.busy;
  // Verdicts given inside Process() are applied once it has returned, so a plugin never sees its batch
  // freed under it.
  if (dispatching_) {
    s.config.plugin->Process(ref);
    return;
  }
  dispatching_ = true;
  s.config.plugin->Process(ref);
  dispatching_ = false;
  s.needs_advance = true;
  AdvanceFlagged();
}

void PluginChain::AdvanceFlagged() {
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (!stages_[i]->needs_advance) continue;
    stages_[i]->needs_advance = false;
    Advance(i);
  }
}

void PluginChain::OnDone(std::size_t stage, PluginBatch& work) {
  Stage& s = *stages_[stage];
  --s.busy;
  s.counters.time_us += (uv_hrtime() - work.started_ns_) / 1000;
  s.needs_advance = true;
  if (!dispatching_) AdvanceFlagged();
}

void PluginChain::Advance(std::size_t stage) {
  Stage& s = *stages_[stage];
  // Batches leave in the order they came: a batch done early waits for those before it.
  while (!s.order.empty() && s.order.front()->done()) {
    std::unique_ptr<PluginBatch> work = std::move(s.order.front());
    s.order.pop_front();
    BatchRef survivors = Apply(s, *work);
    work.reset();
    if (survivors) {
      Enter(stage + 1, std::move(survivors));
    } else {
      Finished();
    }
  }
  while (!s.waiting.empty() && s.busy < std::max<std::size_t>(s.config.plugin->max_in_flight(), 1)) {
    BatchRef next = std::move(s.waiting.front());
    s.waiting.pop_front();
    Start(stage, std::move(next));
  }
}

BatchRef PluginChain::Apply(Stage& stage, PluginBatch& work) {
  BatchRef batch = work.batch_ref();
  std::vector<Record>& records = batch->records();
  PluginCounters& c = stage.counters;
  std::vector<RejectedRecord> rejected;
  std::size_t acked = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    Verdict v = work.misused_ ? Verdict::kFail : work.verdict(i);
    if (v == Verdict::kReplace && work.replacement(i).empty()) v = Verdict::kDrop;
    switch (v) {
      case Verdict::kKeep:
        records[kept++] = records[i];
        continue;
      case Verdict::kReplace:
        ++c.replaced;
        records[kept] = records[i];
        records[kept++].data = work.replacement(i);
        continue;
      case Verdict::kDrop:
        ++c.dropped;
        ++acked;
        continue;
      case Verdict::kUndecided:
      case Verdict::kFail:
        break;
    }
    ++c.errored;
    switch (stage.config.on_error) {
      case OnError::kPass:
        records[kept++] = records[i];
        break;
      case OnError::kDrop:
        ++c.dropped;
        ++acked;
        break;
      case OnError::kDeadLetter: {
        std::string_view why = work.misused_              ? "the plugin gave invalid verdicts"
                               : v == Verdict::kUndecided ? "the plugin gave no verdict"
                               : work.reason(i).empty()   ? "the plugin failed"
                                                          : work.reason(i);
        const std::string_view code = v == Verdict::kFail && !work.misused_ && !work.code(i).empty()
                                          ? work.code(i)
                                          : PluginBatch::kDefaultFailureCode;
        // The reason's and the code's texts live in work, which goes away: Reject copies them.
        rejected.push_back(RejectedRecord{stage.config.name, why, records[i].data, code});
        ++c.dead_lettered;
        break;
      }
    }
  }
  c.records_out += kept;
  if (!rejected.empty()) Reject(batch, std::move(rejected), &stage);
  records.resize(kept);
  if (acked > 0) batch->Ack(acked);
  if (kept == 0) return BatchRef();
  return batch;
}

void PluginChain::Leave(BatchRef batch) {
  // A plugin may have made a record longer than the destination takes; it could never be sent.
  std::vector<Record>& records = batch->records();
  std::vector<RejectedRecord> oversize;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].data.size() > max_record_bytes_) {
      oversize.push_back(RejectedRecord{"plugins", {}, records[i].data});
      continue;
    }
    records[kept++] = records[i];
  }
  records.resize(kept);
  if (!oversize.empty()) {
    counters_.oversize_dead_lettered += oversize.size();
    Reject(batch, std::move(oversize), nullptr);
  }
  if (kept > 0) next_.Accept(std::move(batch));
  Finished();
}

void PluginChain::Reject(BatchRef batch, std::vector<RejectedRecord> records, Stage* stage) {
  const std::size_t n = records.size();
  if (!rejects_) {
    // No dead-letter file: nothing may disappear, so the records stay unacknowledged (their bytes wait in
    // the source, past its checkpoint) and are counted.
    counters_.dead_letter_failures += n;
    return;
  }
  // The texts the records point at (reasons, codes, the size message) must live until the write is done;
  // reserved whole, so the views stay put.
  auto texts = std::make_shared<std::vector<std::string>>();
  texts->reserve(2 * n);
  for (auto& r : records) {
    if (stage == nullptr) {
      texts->push_back(fmt::format("{} bytes after the plugins; the destination takes at most {}",
                                   r.data.size(), max_record_bytes_));
    } else {
      texts->emplace_back(r.reason);
    }
    r.reason = texts->back();
    if (r.code != PluginBatch::kDefaultFailureCode) r.code = texts->emplace_back(r.code);
  }
  ++rejecting_;
  std::weak_ptr<bool> alive = alive_;
  rejects_(std::move(records), [this, alive, batch, texts, n](Status written) {
    if (alive.expired()) return;
    --rejecting_;
    if (written) {
      batch->Ack(n);
    } else {
      // Unacknowledged, they stay in the source past its checkpoint and are processed again after a
      // restart; they are not sent unchanged (a plugin may have failed on a secret it had to remove).
      counters_.dead_letter_failures += n;
    }
    MaybeDrained();
  });
}

void PluginChain::Finished() {
  --in_flight_;
  MaybeDrained();
}

void PluginChain::MaybeDrained() {
  if (in_flight_ > 0 || rejecting_ > 0 || on_drained_.empty()) return;
  auto waiting = std::move(on_drained_);
  on_drained_.clear();
  for (auto& done : waiting) done();
}

void PluginChain::Drain(std::function<void()> on_drained) {
  if (in_flight_ == 0 && rejecting_ == 0) {
    on_drained();
    return;
  }
  on_drained_.push_back(std::move(on_drained));
}

void PluginChain::Close(std::function<void()> on_closed) {
  if (stages_.empty()) {
    on_closed();
    return;
  }
  auto closed = JoinCallbacks(static_cast<int>(stages_.size()), std::move(on_closed));
  for (auto& s : stages_) s->config.plugin->Close(closed);
}

}  // namespace ferry
