// CallbackJoin: one callback that several asynchronous steps share, calling `done` when the last of them
// has called it (closing a stage's handles, draining its parts). Loop thread only.
#pragma once

#include <functional>
#include <memory>

namespace ferry {

// Returns a callback to be called exactly `count` times; the last call runs done. count must be > 0.
inline std::function<void()> JoinCallbacks(int count, std::function<void()> done) {
  struct State {
    int left;
    std::function<void()> done;
  };
  auto state = std::make_shared<State>(State{count, std::move(done)});
  return [state] {
    if (--state->left == 0 && state->done) state->done();
  };
}

}  // namespace ferry
