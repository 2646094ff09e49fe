// PluginBatch: the verdicts a plugin gives the records of one batch.
#include <cstring>

#include "agent/pipeline/plugin.h"

namespace ferry {

PluginBatch::PluginBatch(BatchRef batch, std::function<void(PluginBatch&)> done)
    : batch_(std::move(batch)),
      on_done_(std::move(done)),
      verdicts_(batch_->records().size(), Verdict::kUndecided),
      replacements_(batch_->records().size()) {}

void PluginBatch::Decide(std::size_t i, Verdict v) {
  // A plugin that names a record twice or one that does not exist is wrong; the chain then trusts none of
  // its verdicts for this batch.
  if (done_called_ || i >= verdicts_.size() || verdicts_[i] != Verdict::kUndecided) {
    misused_ = true;
    return;
  }
  verdicts_[i] = v;
}

void PluginBatch::Replace(std::size_t i, std::string_view data) {
  std::span<char> out = ReplaceBuffer(i, data.size());
  if (!out.empty()) std::memcpy(out.data(), data.data(), data.size());
}

std::span<char> PluginBatch::ReplaceBuffer(std::size_t i, std::size_t n) {
  Decide(i, Verdict::kReplace);
  if (misused_ || i >= verdicts_.size()) return {};
  char* bytes = n == 0 ? nullptr : batch_->arena().Allocate(n);
  replacements_[i] = std::string_view(bytes, n);
  return {bytes, n};
}

void PluginBatch::Fail(std::size_t i, std::string reason, std::string code) {
  Decide(i, Verdict::kFail);
  if (misused_) return;
  if (reasons_.empty()) {
    reasons_.resize(verdicts_.size());
    codes_.resize(verdicts_.size());
  }
  reasons_[i] = std::move(reason);
  codes_[i] = std::move(code);
}

std::string_view PluginBatch::reason(std::size_t i) const {
  return i < reasons_.size() ? std::string_view(reasons_[i]) : std::string_view();
}

std::string_view PluginBatch::code(std::size_t i) const {
  return i < codes_.size() ? std::string_view(codes_[i]) : std::string_view();
}

void PluginBatch::Done() {
  if (done_called_) return;
  done_called_ = true;
  auto done = std::move(on_done_);
  if (done) done(*this);
}

}  // namespace ferry
