// FlowSet: starting, draining, closing and replacing flows by name.
#include "agent/pipeline/flow_set.h"

#include <algorithm>
#include <memory>

#include "agent/core/callback_join.h"

namespace ferry {

void FlowSet::Add(std::unique_ptr<Flow> flow) {
  std::string name = flow->name();
  flows_.emplace(std::move(name), std::move(flow));
}

Flow* FlowSet::Find(std::string_view name) const {
  auto it = flows_.find(name);
  return it == flows_.end() ? nullptr : it->second.get();
}

std::vector<const Flow*> FlowSet::List() const {
  std::vector<const Flow*> out;
  out.reserve(flows_.size());
  for (const auto& [name, flow] : flows_) out.push_back(flow.get());
  return out;
}

void FlowSet::StartAll() {
  for (auto& [name, flow] : flows_) flow->Start();
}

void FlowSet::DrainAll(Duration timeout, std::function<void(std::size_t)> on_drained) {
  if (flows_.empty()) {
    on_drained(0);
    return;
  }
  struct State {
    std::size_t left;
    std::size_t undelivered = 0;
    std::function<void(std::size_t)> done;
  };
  auto state = std::make_shared<State>(State{flows_.size(), 0, std::move(on_drained)});
  for (auto& [name, flow] : flows_) {
    flow->Drain(timeout, [state](std::size_t undelivered) {
      state->undelivered += undelivered;
      if (--state->left == 0) state->done(state->undelivered);
    });
  }
}

void FlowSet::CloseAll(std::function<void()> on_closed) {
  auto flows = std::make_shared<std::vector<std::unique_ptr<Flow>>>();
  for (auto& [name, flow] : flows_) flows->push_back(std::move(flow));
  flows_.clear();
  if (flows->empty()) {
    on_closed();
    return;
  }
  // The flows are destroyed once every handle of every one is closed.
  auto closed = JoinCallbacks(static_cast<int>(flows->size()), [flows, on_closed = std::move(on_closed)] {
    flows->clear();
    on_closed();
  });
  for (auto& flow : *flows) flow->Close(closed);
}

void FlowSet::Replace(const std::string& name, FlowMaker make, Duration timeout,
                      std::function<void(Result<std::size_t>)> done) {
  auto it = flows_.find(name);
  if (it == flows_.end()) {
    StartReplacement(name, std::move(make), 0, std::move(done));
    return;
  }
  Flow* old = it->second.get();
  old->Drain(timeout, [this, name, old, make = std::move(make),
                       done = std::move(done)](std::size_t undelivered) mutable {
    auto it = flows_.find(name);
    if (it == flows_.end() || it->second.get() != old) return;  // the set was closed meanwhile
    closing_.push_back(std::move(it->second));
    flows_.erase(it);
    old->Close([this, old, name, make = std::move(make), done = std::move(done), undelivered]() mutable {
      // Destroyed before its replacement is built: the spool folder and checkpoints are its no more.
      std::erase_if(closing_, [old](const std::unique_ptr<Flow>& f) { return f.get() == old; });
      StartReplacement(name, std::move(make), undelivered, std::move(done));
    });
  });
}

void FlowSet::StartReplacement(const std::string& name, FlowMaker make, std::size_t undelivered,
                               std::function<void(Result<std::size_t>)> done) {
  if (!make) {
    done(undelivered);
    return;
  }
  auto made = make();
  if (!made) {
    done(made.error());
    return;
  }
  Flow* flow = made->get();
  flows_.emplace(name, std::move(*made));
  flow->Start();
  done(undelivered);
}

}  // namespace ferry
