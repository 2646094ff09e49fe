// ApacheLog: the access and error log scanners (see apache_log.h).
#include "plugins/parse/apache_log.h"

#include "plugins/parse/line_cursor.h"

namespace ferry::plugins::parse {
namespace {

// %>s and %b: an integer (the agent's [+-]?[0-9]+) or "-".
bool Number(LineCursor& c, FieldValue& out) {
  std::string_view token;
  if (!c.Token(token)) return false;
  if (token != "-") {
    std::string_view digits = token.substr(token[0] == '+' || token[0] == '-' ? 1 : 0);
    if (!IsDigits(digits)) return false;
  }
  out = DashIsNull(token);
  return true;
}

// After the last field: the end of the line, or a space and anything (the agent's trailing ".*").
bool EndOrMore(const LineCursor& c) {
  return c.at_end() || c.peek() == ' ';
}

}  // namespace

const char* ScanApacheAccess(std::string_view line, bool combined, FieldValue* out) {
  LineCursor c(line);
  std::string_view v;
  // %h %l %u: host (a name, IPv4 or IPv6 address), identd user, authenticated user; single spaces.
  for (int i = 0; i < 3; ++i) {
    if (!c.Token(v) || !c.Skip(' ')) return "expected host, ident and authuser separated by single spaces";
    out[i] = DashIsNull(v);
  }
  if (!c.Bracketed(v) || v.empty() || !c.Skip(' ')) return "expected [datetime] after authuser";
  out[3] = {v};
  if (!c.Quoted(v) || !c.Skip(' ')) return "expected a \"request\" after the datetime";
  out[4] = DashIsNull(v);
  if (!Number(c, out[5]) || !c.Skip(' ')) return "expected the status, a number or -, after the request";
  if (!Number(c, out[6])) return "expected the size in bytes, a number or -, after the status";
  if (!combined) return EndOrMore(c) ? nullptr : "unexpected text after the size";
  if (!c.Skip(' ') || !c.Quoted(v)) return "expected a \"referer\" after the size";
  out[7] = DashIsNull(v);
  if (!c.Skip(' ') || !c.Quoted(v)) return "expected a \"user agent\" after the referer";
  out[8] = DashIsNull(v);
  return EndOrMore(c) ? nullptr : "unexpected text after the user agent";
}

const char* ScanApacheError(std::string_view line, FieldValue* out) {
  LineCursor c(line);
  std::string_view v;
  if (!c.Bracketed(v) || v.empty() || !c.Skip(' ')) return "expected [timestamp] at the start";
  out[0] = {v};
  // [module:severity] (httpd 2.4) or [severity] (httpd 2.2).
  if (!c.Bracketed(v) || v.empty() || v.find(' ') != std::string_view::npos)
    return "expected [module:severity] or [severity] after the timestamp";
  if (std::size_t colon = v.find(':'); colon != std::string_view::npos) {
    out[1] = DashIsNull(v.substr(0, colon));
    out[2] = DashIsNull(v.substr(colon + 1));
  } else {
    out[1] = {{}, true};
    out[2] = DashIsNull(v);
  }
  out[3] = {{}, true};
  out[4] = {{}, true};
  out[5] = {{}, true};
  // [pid N] or [pid N:tid M], then [client address] or [client address:port]; each optional (the agent
  // requires both, which fails httpd 2.4's lines about the server itself and all of httpd 2.2's).
  auto block = [&c](std::string_view prefix, std::string_view& inner) {
    std::size_t at = c.pos();
    if (c.Skip(' ') && c.peek() == '[' && c.rest().substr(1, prefix.size()) == prefix && c.Bracketed(inner)) {
      inner.remove_prefix(prefix.size());
      return true;
    }
    c.set_pos(at);
    return false;
  };
  if (block("pid ", v)) {
    std::string_view pid = v.substr(0, v.find(':'));
    if (!IsDigits(pid)) return "expected digits after [pid";
    out[3] = {pid};
    if (pid.size() < v.size()) {
      std::string_view tid = v.substr(pid.size());
      if (tid.substr(0, 5) != ":tid " || !IsDigits(tid.substr(5))) return "expected [pid N:tid M]";
      out[4] = {tid.substr(5)};
    }
  }
  if (block("client ", v)) {
    if (v.empty()) return "expected an address after [client";
    out[5] = {v};
  }
  if (c.at_end()) {
    out[6] = {c.rest()};
    return nullptr;
  }
  if (!c.Skip(' ')) return "expected a space before the message";
  out[6] = {c.rest()};
  return nullptr;
}

}  // namespace ferry::plugins::parse
