// Plugin: one stage of a flow's chain (filter, redact, parse, enrich, or a transform that runs elsewhere).
//
// A plugin gets a batch of records (PluginBatch) and gives every record one verdict: keep it, replace its
// bytes, drop it, or fail it with a reason. It may decide at once, inside Process(), or later (a plugin that
// hands records to a child process decides when the process answers); either way it calls Done() exactly
// once when every record has its verdict, on the loop thread. The chain (plugin_chain.h) checks the
// verdicts, acknowledges drops, routes failures by the stage's on_error, and keeps batches in order.
//
// A plugin that runs something of its own (a child process) starts it in Start(), which the flow calls once
// when `ferry run` builds it (never in `ferry check`, which only makes plugins); a failure there stops ferry
// at start-up, located at the plugin's entry in the config.
//
// Ownership: the chain owns the PluginBatch; a plugin may hold a reference to it from Process() until it
// calls Done(), and never after. Replacement bytes live in the batch's arena (ReplaceBuffer / Replace),
// so they cost no allocation of their own and are freed with the batch.
// Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/result.h"

namespace ferry {

// What becomes of a record a plugin failed on.
enum class OnError {
  kPass,        // the record goes on unchanged (the default: a plugin error never loses data)
  kDrop,        // acknowledged and counted, not sent
  kDeadLetter,  // into the flow's dead-letter file with the plugin's name and the reason
};

enum class Verdict : std::uint8_t { kUndecided, kKeep, kReplace, kDrop, kFail };

class PluginBatch {
 public:
  // The chain makes these; done is called by Done().
  PluginBatch(BatchRef batch, std::function<void(PluginBatch&)> done);
  PluginBatch(const PluginBatch&) = delete;
  PluginBatch& operator=(const PluginBatch&) = delete;

  // The records to decide on, in order, and the batch they belong to (its origin names the source file).
  std::span<const Record> records() const { return batch_->records(); }
  Batch& batch() const { return *batch_; }

  void Keep(std::size_t i) { Decide(i, Verdict::kKeep); }
  // Copies data into the batch's arena and makes it the record's new bytes.
  void Replace(std::size_t i, std::string_view data);
  // n bytes in the batch's arena that become record i's bytes; the plugin fills them before Done().
  std::span<char> ReplaceBuffer(std::size_t i, std::size_t n);
  void Drop(std::size_t i) { Decide(i, Verdict::kDrop); }
  // code: what the dead-letter file gives as the record's error_code ("processing-failed" for the lambda
  // plugin, as Firehose names its transformation failures).
  void Fail(std::size_t i, std::string reason, std::string code = std::string(kDefaultFailureCode));
  // Every record has its verdict (records left undecided are failures of the plugin). Once.
  void Done();

  Verdict verdict(std::size_t i) const { return verdicts_[i]; }
  std::string_view replacement(std::size_t i) const { return replacements_[i]; }
  // The reason record i failed (empty unless its verdict is kFail).
  std::string_view reason(std::size_t i) const;
  // Its error code ("PluginError" unless the plugin gave one; empty unless its verdict is kFail).
  std::string_view code(std::size_t i) const;

  static constexpr std::string_view kDefaultFailureCode = "PluginError";
  bool done() const { return done_called_; }
  const BatchRef& batch_ref() const { return batch_; }

 private:
  void Decide(std::size_t i, Verdict v);

  BatchRef batch_;
  std::function<void(PluginBatch&)> on_done_;
  std::vector<Verdict> verdicts_;
  std::vector<std::string_view> replacements_;
  std::vector<std::string> reasons_;  // by record, once a record failed
  std::vector<std::string> codes_;    // likewise
  bool done_called_ = false;
  bool misused_ = false;          // a verdict for a record out of range, or given twice
  std::uint64_t started_ns_ = 0;  // when the chain handed it over
  friend class PluginChain;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  // Starts what the plugin runs (processes, timers) on the loop it was made with. Called once, before the
  // first batch, by `ferry run` only; an error stops the flow from starting and names why.
  virtual Status Start() { return Status::Ok(); }
  // Decides on every record of work and calls work.Done(), now or later.
  virtual void Process(PluginBatch& work) = 0;
  // How many batches it may hold at once; more wait in the chain (in order).
  virtual std::size_t max_in_flight() const { return 1; }
  // The memory budget is spent: finish whatever is held back waiting for more records.
  virtual void Relieve() {}
  // Stops; on_closed runs once no PluginBatch is referenced any more and every handle is closed.
  virtual void Close(std::function<void()> on_closed) { on_closed(); }
  // Calls each(name, value) for the plugin's own counters and gauges, in a fixed order, after the ones
  // every stage has (PluginCounters): what `ferry status` adds to the plugin's entry. Names are fixed
  // strings of the plugin, in snake_case.
  using CounterVisitor = std::function<void(std::string_view name, std::uint64_t value)>;
  virtual void VisitCounters(const CounterVisitor& each) const { (void)each; }
};

}  // namespace ferry
