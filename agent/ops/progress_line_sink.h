// ProgressLineSink: the log sink of `ferry send` while it draws a progress line on the same terminal. Each
// log line first returns to the start of the line and erases it ("\r\x1b[K"), so a warning replaces the
// progress line instead of running on after it; the next frame is drawn below the warning. Without a
// progress line the cursor is at a line's start already and the erase changes nothing.
// Thread rules: as thread-safe as the wrapped sink; it writes to it only.
#pragma once

#include <memory>

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/sink.h>

namespace ferry {

class ProgressLineSink final : public spdlog::sinks::sink {
 public:
  // fd: the terminal the progress line is drawn on (standard error); inner writes the log lines there.
  ProgressLineSink(int fd, std::shared_ptr<spdlog::sinks::sink> inner) : fd_(fd), inner_(std::move(inner)) {}

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  int fd_;
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace ferry
