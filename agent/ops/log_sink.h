// LogSink: how every ferry command that logs writes its log. EscapingSink wraps a real sink (stderr for
// `ferry run`) and escapes each message with EscapeLogText (core/log_escape.h) before the pattern is
// applied, so a value from outside (a file name with a newline, an endpoint's multi-line error, a terminal
// escape sequence) can never start a line of its own or forge one: one call, one line. ferry's own text is
// plain ASCII and passes unchanged and uncopied. Field marks (core/log_fields.h) are taken out first.
//
// Thread rules: EscapingSink holds no state of its own beyond the wrapped sink; it is as thread-safe as
// that sink (spdlog's *_mt sinks lock).
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

namespace ferry {

class EscapingSink final : public spdlog::sinks::sink {
 public:
  explicit EscapingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

// The pattern of ferry's log lines: "2024-05-01T12:00:00.123+00:00 info <message>".
inline constexpr const char* kLogPattern = "%Y-%m-%dT%H:%M:%S.%e%z %l %v";

// A logger named "ferry" that writes to stderr at level (trace, debug, info, warn, error), in format
// (log_format): "text" through an EscapingSink with kLogPattern, "json" through a JsonLogSink
// (ops/json_log_sink.h).
std::shared_ptr<spdlog::logger> MakeStderrLogger(const std::string& level,
                                                 const std::string& format = "text");

// The same over any sink (tests capture the lines this way).
std::shared_ptr<spdlog::logger> MakeLogger(std::shared_ptr<spdlog::sinks::sink> sink,
                                           const std::string& level, const std::string& format = "text");

}  // namespace ferry
