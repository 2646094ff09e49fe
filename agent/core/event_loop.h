// EventLoop: the checked start and end of a libuv loop. uv_loop_init can fail (no file descriptors left for
// its epoll or signal pipe), and uv_loop_close fails with UV_EBUSY while any handle is still open, which
// in ferry is always a bug: some object was destroyed without closing its handles (DESIGN: every handle has
// one shutdown path). Both are reported instead of ignored. Loop thread only.
#pragma once

#include <uv.h>

#include <string>

#include "agent/core/result.h"

namespace ferry {

// uv_loop_init(loop); kInternal "cannot create the event loop: <libuv's reason>" when it fails.
Status InitLoop(uv_loop_t* loop);

// uv_loop_close(loop). Empty when the loop closed; otherwise what keeps it open, for an error line: "2
// handles still open: timer (active), poll". The loop is then left as it is: its handles' memory may
// belong to objects already gone, so closing them now could only make things worse.
std::string CloseLoop(uv_loop_t* loop);

}  // namespace ferry
