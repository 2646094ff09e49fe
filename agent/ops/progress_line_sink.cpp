// ProgressLineSink: erase the progress line before a log line.
#include "agent/ops/progress_line_sink.h"

#include <unistd.h>

namespace ferry {

void ProgressLineSink::log(const spdlog::details::log_msg& msg) {
  if (!should_log(msg.level)) return;
  static constexpr char kErase[] = "\r\x1b[K";
  // A short write to a terminal leaves at worst the bar's tail on the line; the log line follows anyway.
  [[maybe_unused]] ssize_t n = ::write(fd_, kErase, sizeof(kErase) - 1);
  inner_->log(msg);
}

}  // namespace ferry
