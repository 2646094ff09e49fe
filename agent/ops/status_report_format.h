// The human form of the daemon's status reply, for `ferry status`. Pure: JSON text in, report text out.
//
// The reply (schema v1) is one object: "ferry" (version), "pid", "uptime_seconds", and "flows", each with a
// "name", "counters" and "errors" (objects of numbers, printed in their JSON order) and "files" (objects with
// "path", "offset", "bytes_behind", "lines", "oversize", "rotations", "open", ...). Keys this version does
// not know are ignored, so an older `ferry status` reads a newer daemon; known keys that are missing, or of
// an unexpected type, print as "-".
#pragma once

#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

// Lines of counters and errors wrap at this width (a single longer item gets a line of its own).
inline constexpr std::size_t kStatusReportWidth = 100;

// The report, one line per item and "\n" after each; kProtocol when `json` is not a JSON object.
Result<std::string> FormatStatusReport(std::string_view json);

}  // namespace ferry
