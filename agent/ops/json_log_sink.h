// JsonLogSink: ferry's log as JSON lines (log_format: json), for journald or a log collector. Each message
// becomes one object on one line:
//   {"time":"2026-12-05T14:06:12.123Z","level":"warn","flow":"web","file":"/var/log/a.log",
//    "message":"flow web: /var/log/a.log: cannot open it: Permission denied (EACCES)"}
// - time: RFC 3339, UTC, milliseconds; level: trace, debug, info, warn, error (the log_level names);
// - flow: from a message that starts "flow NAME: " (every message about one flow does); file: from a path
//   the call site marked (core/log_fields.h); both only when the message has them;
// - message: the text exactly as the text log shows it (ops/log_sink.h: escaped to one line, marks taken
//   out), so the two formats read alike; the flow and file stay in it.
// Strings are valid JSON whatever the bytes: field values keep valid UTF-8, control characters become \n,
// \t, \uXXXX escapes, and a byte that is not UTF-8 becomes \ufffd (the message's own escapes, "\xff",
// keep the original byte visible).
//
// The sink wraps a real one (stderr for `ferry run`) and hands it the finished line with the pattern "%v",
// so writing and locking stay the wrapped sink's: as thread-safe as it is.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

namespace ferry {

// One log line's object (without the newline).
std::string JsonLogLine(std::chrono::system_clock::time_point time, spdlog::level::level_enum level,
                        std::string_view message);

// s as a JSON string's contents (without the quotes).
std::string JsonEscape(std::string_view s);

class JsonLogSink final : public spdlog::sinks::sink {
 public:
  explicit JsonLogSink(std::shared_ptr<spdlog::sinks::sink> inner);

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override { inner_->flush(); }
  // The line is finished here; the wrapped sink only writes it.
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace ferry
