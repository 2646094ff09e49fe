// LogSink: the escaping happens on the message (the payload) only; time, level and pattern are ferry's.
#include "agent/ops/log_sink.h"

#include <spdlog/sinks/stdout_sinks.h>

#include "agent/core/log_escape.h"
#include "agent/core/log_fields.h"
#include "agent/ops/json_log_sink.h"

namespace ferry {

void EscapingSink::log(const spdlog::details::log_msg& msg) {
  std::string_view payload(msg.payload.data(), msg.payload.size());
  if (!NeedsLogEscape(payload)) {
    inner_->log(msg);
    return;
  }
  std::string plain;
  if (MayHaveLogFields(payload)) {
    plain = StripLogFields(payload, nullptr);
    payload = plain;
  }
  const std::string escaped = EscapeLogText(payload);
  spdlog::details::log_msg copy(msg);
  copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
  inner_->log(copy);
}

std::shared_ptr<spdlog::logger> MakeLogger(std::shared_ptr<spdlog::sinks::sink> sink,
                                           const std::string& level, const std::string& format) {
  std::shared_ptr<spdlog::sinks::sink> top;
  if (format == "json") {
    top = std::make_shared<JsonLogSink>(std::move(sink));
  } else {
    top = std::make_shared<EscapingSink>(std::move(sink));
  }
  auto log = std::make_shared<spdlog::logger>("ferry", std::move(top));
  log->set_level(spdlog::level::from_str(level));
  log->set_pattern(kLogPattern);  // the JSON sink keeps its own
  return log;
}

std::shared_ptr<spdlog::logger> MakeStderrLogger(const std::string& level, const std::string& format) {
  return MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), level, format);
}

}  // namespace ferry
