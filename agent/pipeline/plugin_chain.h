// PluginChain: the ordered plugins of one flow, between its source and its output.
//
// Each batch passes the stages in order. A stage hands the batch to its plugin (plugin.h) and waits for
// the plugin's verdicts, which may come later; the chain never trusts a count, it reads every record's
// verdict:
// - keep: the record goes on; replace: it goes on with its new bytes (an empty replacement is a drop);
// - drop: acknowledged at once, so the source's checkpoint passes it, and counted;
// - fail (or no verdict at all): the stage's on_error decides: pass (unchanged), drop (acknowledged and
//   counted), or dead_letter (written with the plugin's name and the reason, acknowledged once durable).
// A stage holds at most its plugin's max_in_flight batches; batches leave a stage in the order they came,
// so records keep their source order whatever order an asynchronous plugin answers in.
// After the last stage, records the plugins made longer than the output takes are dead-lettered (they
// could never be sent). With no plugins the chain is a plain pass-through.
//
// Memory relief (the budget is spent) asks every plugin to let go of what it holds. Drain waits until no
// batch is inside the chain. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/batch_sink.h"
#include "agent/core/memory_budget.h"
#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"

namespace ferry {

struct PluginStage {
  std::string name;  // as configured: "grep", "redact", ...
  std::unique_ptr<Plugin> plugin;
  OnError on_error = OnError::kPass;
};

// A record no plugin result may send: why, and who said so.
struct RejectedRecord {
  std::string_view plugin;  // the stage's name, or "plugins" for the size check after the chain
  std::string_view reason;
  std::string_view data;  // the record's bytes (views into the batch held by the caller)
  std::string_view code = PluginBatch::kDefaultFailureCode;  // the dead letter's error_code
};
// Writes rejected records durably (the flow's dead-letter file) and calls done with the outcome, now or
// later. The views stay valid until done runs.
using RejectSink = std::function<void(std::vector<RejectedRecord> records, std::function<void(Status)> done)>;

struct PluginCounters {
  std::uint64_t records_in = 0;
  std::uint64_t records_out = 0;  // kept, replaced, and failed records passed on
  std::uint64_t replaced = 0;
  std::uint64_t dropped = 0;  // dropped by the plugin, or failed with on_error: drop
  std::uint64_t errored = 0;  // failed records (whatever on_error did with them)
  std::uint64_t dead_lettered = 0;
  std::uint64_t time_us = 0;  // from hand-over to verdicts, summed over batches
};

struct ChainCounters {
  std::uint64_t oversize_dead_lettered = 0;  // records over the output's limit after the plugins
  std::uint64_t dead_letter_failures = 0;    // writes that failed: their records went on unchanged
};

class PluginChain : public BatchSink {
 public:
  // max_record_bytes: the longest record the output takes; rejects: where failed records go (without one,
  // on_error: dead_letter passes records on unchanged and counts them). budget (may be null): relief.
  PluginChain(BatchSink& next, std::size_t max_record_bytes, RejectSink rejects, MemoryBudget* budget);
  ~PluginChain() override;
  PluginChain(const PluginChain&) = delete;
  PluginChain& operator=(const PluginChain&) = delete;

  void Add(PluginStage stage);
  void Accept(BatchRef batch) override;

  // Calls on_drained once no batch is inside the chain (at once if none is).
  void Drain(std::function<void()> on_drained);
  // Closes every plugin; on_closed runs once they all are.
  void Close(std::function<void()> on_closed);

  std::size_t size() const { return stages_.size(); }
  std::string_view name(std::size_t stage) const { return stages_[stage]->config.name; }
  const PluginCounters& counters(std::size_t stage) const { return stages_[stage]->counters; }
  const Plugin& plugin(std::size_t stage) const { return *stages_[stage]->config.plugin; }
  const ChainCounters& counters() const { return counters_; }
  // Records acknowledged by the chain (dropped, or dead-lettered), over every stage.
  std::uint64_t dropped() const;
  // Of those, the dead letters: failed with on_error: dead_letter, or too long for the output.
  std::uint64_t dead_lettered() const;
  // Batches inside the chain.
  std::size_t in_flight() const { return in_flight_; }

 private:
  struct Stage {
    PluginStage config;
    PluginCounters counters;
    std::deque<std::unique_ptr<PluginBatch>> order;  // batches handed over, oldest first
    std::deque<BatchRef> waiting;                    // batches for which max_in_flight is reached
    std::size_t busy = 0;                            // handed over, not done
    bool needs_advance = false;                      // a batch got its verdicts while a plugin was running
  };

  void Enter(std::size_t stage, BatchRef batch);
  void Start(std::size_t stage, BatchRef batch);
  void OnDone(std::size_t stage, PluginBatch& work);
  void AdvanceFlagged();
  // Applies the verdicts of the done batches at the head of the stage, in order, and moves them on.
  void Advance(std::size_t stage);
  // Applies work's verdicts to its batch; returns the batch with the surviving records, or nothing.
  BatchRef Apply(Stage& stage, PluginBatch& work);
  void Leave(BatchRef batch);
  void Reject(BatchRef batch, std::vector<RejectedRecord> records, Stage* stage);
  // A batch left the chain (passed on, or nothing of it was left).
  void Finished();
  void MaybeDrained();

  BatchSink& next_;
  std::size_t max_record_bytes_;
  RejectSink rejects_;
  MemoryBudget* budget_;
  int reliever_ = 0;
  std::vector<std::unique_ptr<Stage>> stages_;
  ChainCounters counters_;
  std::size_t in_flight_ = 0;  // batches accepted and not yet passed on or finished
  std::size_t rejecting_ = 0;  // dead-letter writes under way
  bool dispatching_ = false;   // inside a plugin's Process(): verdicts given there are applied after it
  std::vector<std::function<void()>> on_drained_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ferry
