// SyslogLine: scanners for syslog lines.
//
// syslog_rfc3164 is the Kinesis Agent's LOGTOJSON SYSLOG and RFC3339SYSLOG (the same layout with an RFC 3339
// timestamp, as rsyslog's RSYSLOG_FileFormat writes it): what syslog daemons write to files, and RFC 3164
// lines as sent on the wire (an optional leading <PRI>, which is skipped):
//   [<PRI>]TIMESTAMP [<facility.severity> ]HOSTNAME PROGRAM[[PID]]: MESSAGE
// under the agent's names timestamp, hostname, program, processid (null without [PID]), message.
//
// syslog_rfc5424 is RFC 5424 (the agent has no such format):
//   <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
// under the agent's names where the two overlap (APP-NAME is program, PROCID processid), the NILVALUE "-"
// as null, STRUCTURED-DATA as the text of its [elements] (escapes as written), MSG without its UTF-8 BOM
// (null when the line has none).
//
// Each scanner fills out[0 .. number of fields) and returns null, or returns why the line is not of the
// format (a static string). Views point into the line.
#pragma once

#include <array>
#include <string_view>

#include "plugins/parse/field_value.h"

namespace ferry::plugins::parse {

inline constexpr std::array<std::string_view, 5> kSyslog3164Fields = {"timestamp", "hostname", "program",
                                                                      "processid", "message"};
inline constexpr std::array<std::string_view, 9> kSyslog5424Fields = {
    "priority",  "version", "timestamp",      "hostname", "program",
    "processid", "msgid",   "structureddata", "message"};

const char* ScanSyslog3164(std::string_view line, FieldValue* out);
const char* ScanSyslog5424(std::string_view line, FieldValue* out);

}  // namespace ferry::plugins::parse
