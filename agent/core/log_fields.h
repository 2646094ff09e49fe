// LogFields: values a log message carries as fields of their own, for a log written as JSON
// (ops/json_log_sink.h) where a collector wants `file` apart from the text. A call site marks the value as
// it formats it: log.warn("flow {}: {}: cannot open it", flow, LogFile{path}); the text log shows the
// message exactly as before, the JSON log shows it the same and adds "file": path. (A flow's name needs no
// mark: messages about a flow start "flow NAME: ", which the JSON sink reads.)
//
// The mark is a NUL byte, "file=", the value, and a NUL: a path never holds a NUL, and the sinks take the
// marks out again before anything is written (StripLogFields). Only well-formed marks of known keys are
// taken as fields; any other NUL stays part of the text (and is escaped as such). Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace ferry {

inline constexpr char kLogFieldMark = '\0';

// A file's path in a log message.
struct LogFile {
  std::string_view path;
};

struct LogField {
  std::string_view key;
  std::string_view value;  // a view into the message given to StripLogFields
};

// Whether the message may hold marks (a NUL anywhere); false for nearly every message, without a copy.
inline bool MayHaveLogFields(std::string_view message) {
  return message.find(kLogFieldMark) != std::string_view::npos;
}

// The message without its marks (each marked value left in place), and the marked values in `fields` in
// their order (may be null).
std::string StripLogFields(std::string_view message, std::vector<LogField>* fields);

}  // namespace ferry

template <>
struct fmt::formatter<ferry::LogFile> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const ferry::LogFile& file, Context& ctx) const {
    auto out = ctx.out();
    *out++ = ferry::kLogFieldMark;
    for (char c : std::string_view("file=")) *out++ = c;
    for (char c : file.path) *out++ = c;
    *out++ = ferry::kLogFieldMark;
    return out;
  }
};
