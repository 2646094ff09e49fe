// EventLoop: uv_walk names what is still open when the loop cannot close.
#include "agent/core/event_loop.h"

#include <fmt/format.h>

namespace ferry {

Status InitLoop(uv_loop_t* loop) {
  const int rc = uv_loop_init(loop);
  if (rc != 0)
    return Error(ErrorCode::kInternal, fmt::format("cannot create the event loop: {}", uv_strerror(rc)));
  return Status::Ok();
}

std::string CloseLoop(uv_loop_t* loop) {
  const int rc = uv_loop_close(loop);
  if (rc == 0) return {};
  if (rc != UV_EBUSY) return fmt::format("uv_loop_close: {}", uv_strerror(rc));
  struct Open {
    std::size_t count = 0;
    std::string names;
  } open;
  uv_walk(
      loop,
      [](uv_handle_t* handle, void* arg) {
        auto* out = static_cast<Open*>(arg);
        std::string state;
        if (uv_is_active(handle) != 0) state += "active";
        if (uv_is_closing(handle) != 0) state += state.empty() ? "closing" : ", closing";
        out->names += fmt::format("{}{}{}", out->count == 0 ? "" : ", ",
                                  uv_handle_type_name(uv_handle_get_type(handle)),
                                  state.empty() ? "" : " (" + state + ")");
        ++out->count;
      },
      &open);
  if (open.count == 0) return "the loop has requests still pending";
  return fmt::format("{} handle{} still open: {}", open.count, open.count == 1 ? "" : "s", open.names);
}

}  // namespace ferry
