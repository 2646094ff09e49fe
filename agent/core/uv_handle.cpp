// Closing libuv handles: the callback rides in the handle's data field until the close is done.
#include "agent/core/uv_handle.h"

#include <memory>

#include "agent/core/callback_join.h"

namespace ferry {

bool CloseHandle(uv_handle_t* handle, std::function<void()> closed) {
  if (uv_is_closing(handle) != 0) return false;
  if (!closed) {
    uv_close(handle, nullptr);
    return true;
  }
  handle->data = new std::function<void()>(std::move(closed));
  uv_close(handle, [](uv_handle_t* h) {
    // Taken off the handle first: `closed` may free it.
    std::unique_ptr<std::function<void()>> done(static_cast<std::function<void()>*>(h->data));
    (*done)();
  });
  return true;
}

void CloseHandles(std::initializer_list<uv_handle_t*> handles, std::function<void()> closed) {
  auto one_closed = JoinCallbacks(static_cast<int>(handles.size()), std::move(closed));
  for (uv_handle_t* handle : handles) CloseHandle(handle, one_closed);
}

}  // namespace ferry
