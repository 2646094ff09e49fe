// ApacheLog: scanners for Apache httpd's access logs (mod_log_config's Common and Combined formats) and its
// error log, giving the fields of the Kinesis Agent's LOGTOJSON COMMONAPACHELOG, COMBINEDAPACHELOG and
// APACHEERRORLOG, in its order and under its names (ApacheLogFields). A field written as "-" is null, as
// in the agent; every other value is the text as it stands in the log (status and size stay strings,
// timestamps are not reformatted, \" inside a quoted field stays \").
//
// Each scanner fills out[0 .. number of fields) and returns null, or returns why the line is not of the
// format (a static string). Hand-written rather than a regex with a dozen capture groups: RE2 has to use
// its slower engines to report groups, and these formats have a fixed shape.
#pragma once

#include <array>
#include <string_view>

#include "plugins/parse/field_value.h"

namespace ferry::plugins::parse {

// host ident authuser [datetime] "request" response bytes
inline constexpr std::array<std::string_view, 7> kApacheCommonFields = {
    "host", "ident", "authuser", "datetime", "request", "response", "bytes"};
// The common fields, then "referer" "agent".
inline constexpr std::array<std::string_view, 9> kApacheCombinedFields = {
    "host", "ident", "authuser", "datetime", "request", "response", "bytes", "referer", "agent"};
// [timestamp] [module:severity] [pid processid:tid threadid] [client client] message
inline constexpr std::array<std::string_view, 7> kApacheErrorFields = {
    "timestamp", "module", "severity", "processid", "threadid", "client", "message"};

// Common (combined = false: anything after the size is ignored) or Combined (anything after the user
// agent is ignored), as the agent's patterns do.
const char* ScanApacheAccess(std::string_view line, bool combined, FieldValue* out);
const char* ScanApacheError(std::string_view line, FieldValue* out);

}  // namespace ferry::plugins::parse
