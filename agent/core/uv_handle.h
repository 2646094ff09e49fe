// Closing libuv handles, the one way ferry does it. uv_close is asynchronous: a handle's memory may be
// freed, and its owner told it is closed, only once the close callback has run (on the loop, from its close
// phase, on a clean stack). CloseHandle closes one handle and runs `closed` then; CloseHandles closes
// several and runs `closed` once, when the last of them is closed.
//
// From the close on, the handle's data field carries `closed`: no callback of the handle itself runs after
// uv_close, but a request still pending on it (a stream's write or shutdown) is cancelled later and must
// not read the handle's data; such handles close by hand. The handle must stay valid until `closed` runs;
// `closed` may free it. Loop thread only.
#pragma once

#include <uv.h>

#include <functional>
#include <initializer_list>

namespace ferry {

// Closes handle unless it is closing already (then `closed` is dropped: the close under way has its own
// callback), and returns whether it did. `closed` may be empty.
bool CloseHandle(uv_handle_t* handle, std::function<void()> closed = {});

template <typename Handle>
bool CloseHandle(Handle* handle, std::function<void()> closed = {}) {
  return CloseHandle(reinterpret_cast<uv_handle_t*>(handle), std::move(closed));
}

// Closes every handle (at least one; none may be closing already) and runs closed once all of them are
// closed.
void CloseHandles(std::initializer_list<uv_handle_t*> handles, std::function<void()> closed);

template <typename Handle>
uv_handle_t* AsHandle(Handle* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}

}  // namespace ferry
