// SyslogLine: the RFC 3164 (BSD, as written to files) and RFC 5424 scanners (see syslog_line.h).
#include "plugins/parse/syslog_line.h"

#include <cstddef>

#include "plugins/parse/line_cursor.h"

namespace ferry::plugins::parse {
namespace {

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// hh:mm:ss with an optional fraction (".123" or ",123"), the hour one or two digits.
bool Time(LineCursor& c) {
  std::string_view d;
  if (!c.Digits(d, 1, 2) || !c.Skip(':') || !c.Digits(d, 2, 2) || !c.Skip(':') || !c.Digits(d, 2, 2))
    return false;
  if (c.peek() == '.' || c.peek() == ',') {
    c.Skip(c.peek());
    if (!c.Digits(d, 1, 9)) return false;
  }
  return true;
}

// "Mmm dd hh:mm:ss" (the day may be space-padded: "Mar  2"); month names may be written out in full.
bool BsdTimestamp(LineCursor& c) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string_view month = c.rest().substr(0, 3);
  bool known = false;
  for (std::string_view m : kMonths) known = known || m == month;
  if (!known) return false;
  c.set_pos(c.pos() + 3);
  while (IsAlpha(c.peek())) c.Skip(c.peek());
  std::string_view day;
  return c.SkipSpaces() && c.Digits(day, 1, 2) && c.SkipSpaces() && Time(c);
}

// An RFC 3339 timestamp: yyyy-mm-ddThh:mm:ss[.frac](Z|+hh:mm|-hh:mm).
bool Rfc3339Timestamp(LineCursor& c) {
  std::string_view d;
  if (!c.Digits(d, 4, 4) || !c.Skip('-') || !c.Digits(d, 2, 2) || !c.Skip('-') || !c.Digits(d, 2, 2))
    return false;
  if (!c.Skip('T') && !c.Skip('t')) return false;
  if (!c.Digits(d, 2, 2) || !c.Skip(':') || !c.Digits(d, 2, 2) || !c.Skip(':') || !c.Digits(d, 2, 2))
    return false;
  if (c.Skip('.') && !c.Digits(d, 1, 9)) return false;
  if (c.Skip('Z') || c.Skip('z')) return true;
  if (!c.Skip('+') && !c.Skip('-')) return false;
  return c.Digits(d, 2, 2) && c.Skip(':') && c.Digits(d, 2, 2);
}

// A header field of RFC 5424: 1..max printable US-ASCII characters (33..126), or "-" (null).
bool HeaderField(LineCursor& c, std::size_t max, FieldValue& out) {
  std::string_view v;
  if (!c.Token(v) || v.size() > max) return false;
  for (char ch : v) {
    if (ch < 33 || ch > 126) return false;
  }
  out = DashIsNull(v);
  return true;
}

// SD-NAME: 1..32 printable US-ASCII characters but '=', ' ', ']' and '"'.
bool SdName(LineCursor& c) {
  std::size_t n = 0;
  for (char ch = c.peek(); ch > 32 && ch < 127 && ch != '=' && ch != ']' && ch != '"'; ch = c.peek()) {
    c.Skip(ch);
    ++n;
  }
  return n >= 1 && n <= 32;
}

// One SD-ELEMENT: "[" SD-ID *(SP SD-NAME "=" '"' PARAM-VALUE '"') "]", where PARAM-VALUE escapes '"', '\'
// and ']' with '\'.
bool SdElement(LineCursor& c) {
  if (!c.Skip('[') || !SdName(c)) return false;
  while (c.Skip(' ')) {
    std::string_view value;
    if (!SdName(c) || !c.Skip('=') || !c.Quoted(value)) return false;
  }
  return c.Skip(']');
}

}  // namespace

const char* ScanSyslog3164(std::string_view line, FieldValue* out) {
  LineCursor c(line);
  std::string_view v;
  if (c.Skip('<')) {
    if (!c.Digits(v, 1, 3) || !c.Skip('>')) return "expected <PRI> at the start";
  }
  std::size_t start = c.pos();
  bool stamped = c.peek() >= '0' && c.peek() <= '9' ? Rfc3339Timestamp(c) : BsdTimestamp(c);
  if (!stamped) return "expected a timestamp (\"Mmm dd hh:mm:ss\" or RFC 3339) at the start";
  out[0] = {line.substr(start, c.pos() - start)};
  if (!c.Skip(' ')) return "expected a space after the timestamp";
  if (c.peek() == '<') {  // rsyslog's optional <facility.severity>
    std::size_t at = c.pos();
    std::string_view a;
    std::string_view b;
    if (!(c.Skip('<') && c.Digits(a) && c.Skip('.') && c.Digits(b) && c.Skip('>') && c.Skip(' ')))
      c.set_pos(at);
  }
  if (!c.Token(v) || !c.Skip(' ')) return "expected a hostname after the timestamp";
  out[1] = {v};
  std::size_t program = c.pos();
  while (!c.at_end() && c.peek() != ' ' && c.peek() != '[' && c.peek() != ':') c.Skip(c.peek());
  if (c.pos() == program) return "expected a program name after the hostname";
  out[2] = {line.substr(program, c.pos() - program)};
  out[3] = {{}, true};
  if (c.Skip('[')) {
    if (!c.Digits(v) || !c.Skip(']')) return "expected [pid] after the program name";
    out[3] = {v};
  }
  if (!c.Skip(':')) return "expected ':' after the program name";
  if (!c.at_end() && !c.Skip(' ')) return "expected a space after the program's ':'";
  out[4] = {c.rest()};
  return nullptr;
}

const char* ScanSyslog5424(std::string_view line, FieldValue* out) {
  LineCursor c(line);
  std::string_view v;
  if (!c.Skip('<') || !c.Digits(v, 1, 3) || !c.Skip('>')) return "expected <PRI> at the start";
  if ((v.size() > 1 && v[0] == '0') || (v.size() == 3 && v > "191")) return "PRI is not 0..191";
  out[0] = {v};
  if (!c.Digits(v, 1, 3) || v[0] == '0' || !c.Skip(' ')) return "expected a VERSION after <PRI>";
  out[1] = {v};
  std::size_t start = c.pos();
  if (c.Skip('-')) {
    out[2] = {{}, true};
  } else {
    if (!Rfc3339Timestamp(c)) return "expected an RFC 3339 TIMESTAMP or - after the VERSION";
    out[2] = {line.substr(start, c.pos() - start)};
  }
  // RFC 5424 section 6: HOSTNAME 255, APP-NAME 48, PROCID 128, MSGID 32 characters at most.
  if (!c.Skip(' ') || !HeaderField(c, 255, out[3])) return "expected a HOSTNAME or - after the TIMESTAMP";
  if (!c.Skip(' ') || !HeaderField(c, 48, out[4])) return "expected an APP-NAME or - after the HOSTNAME";
  if (!c.Skip(' ') || !HeaderField(c, 128, out[5])) return "expected a PROCID or - after the APP-NAME";
  if (!c.Skip(' ') || !HeaderField(c, 32, out[6])) return "expected a MSGID or - after the PROCID";
  if (!c.Skip(' ')) return "expected STRUCTURED-DATA or - after the MSGID";
  start = c.pos();
  if (c.Skip('-')) {
    out[7] = {{}, true};
  } else {
    if (c.peek() != '[') return "expected STRUCTURED-DATA or - after the MSGID";
    while (c.peek() == '[') {
      if (!SdElement(c)) return "malformed STRUCTURED-DATA";
    }
    out[7] = {line.substr(start, c.pos() - start)};
  }
  if (c.at_end()) {
    out[8] = {{}, true};
    return nullptr;
  }
  if (!c.Skip(' ')) return "expected a space after the STRUCTURED-DATA";
  std::string_view message = c.rest();
  if (message.substr(0, 3) == "\xEF\xBB\xBF") message.remove_prefix(3);  // the BOM that marks UTF-8
  out[8] = {message};
  return nullptr;
}

}  // namespace ferry::plugins::parse
