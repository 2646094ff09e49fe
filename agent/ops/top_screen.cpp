// RenderTopScreen: fixed-width columns (the flow name as wide as the longest, within bounds), figures
// right-aligned and scaled to at most about five characters, the sorted column's heading in brackets. Rows
// are given to the flows first, then to the files; whatever does not fit is counted ("... 3 more flows").
#include "agent/ops/top_screen.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace ferry {
namespace {

constexpr std::size_t kNameMin = 6;   // "[FLOW]"
constexpr std::size_t kNameMax = 24;  // a longer name is cut, so the figures stay on screen
constexpr std::string_view kEllipsis = "\u2026";

bool Continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

std::size_t Columns(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += !Continuation(c);
  return n;
}

// The first `columns` code points of text.
std::string_view CutRight(std::string_view text, std::size_t columns) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (Continuation(text[i])) continue;
    if (seen == columns) return text.substr(0, i);
    ++seen;
  }
  return text;
}

// Names and paths are chosen by whoever writes configs and logs: control characters (C0, DEL and C1, which
// some terminals obey in UTF-8 too) and bytes that are not UTF-8 would garble the terminal or the columns.
// Each becomes '?', as ls shows them.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80                 ? 1
                         : c >= 0xC2 && c <= 0xDF ? 2
                         : c >= 0xE0 && c <= 0xEF ? 3
                         : c >= 0xF0 && c <= 0xF4 ? 4
                                                  : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) valid = Continuation(text[i + k]);
    if (valid && length == 1 && (c < 0x20 || c == 0x7f)) valid = false;
    if (valid && length == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) valid = false;
    if (!valid) {
      out += '?';
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

// text in `columns` columns, padded on the right; a longer text keeps its start and ends in an ellipsis.
std::string FitLeft(std::string_view text, std::size_t columns) {
  std::string out = Printable(text);
  std::size_t n = Columns(out);
  if (n > columns) {
    if (columns == 0) return {};
    out = std::string(CutRight(out, columns - 1)) + std::string(kEllipsis);
    n = columns;
  }
  return out + std::string(columns - n, ' ');
}

// A path in at most `columns` columns: a longer one keeps its end (the file name), after an ellipsis.
std::string FitPath(std::string_view path, std::size_t columns) {
  std::string out = Printable(path);
  std::size_t n = Columns(out);
  if (n <= columns) return out;
  if (columns == 0) return {};
  std::size_t drop = n - (columns - 1), seen = 0, i = 0;
  for (; i < out.size(); ++i) {
    if (Continuation(out[i])) continue;
    if (seen == drop) break;
    ++seen;
  }
  return std::string(kEllipsis) + out.substr(i);
}

std::string Right(std::string_view text, std::size_t columns) {
  std::size_t n = Columns(text);
  return std::string(columns > n ? columns - n : 0, ' ') + std::string(text);
}

std::string Rate(const std::optional<double>& rate) {
  if (!rate) return "-";
  double v = *rate;
  if (v < 10) return fmt::format("{:.1f}", v);
  if (v < 10'000) return fmt::format("{:.0f}", v);
  if (v < 1e6) return fmt::format("{:.1f}k", v / 1e3);
  if (v < 1e9) return fmt::format("{:.1f}M", v / 1e6);
  return fmt::format("{:.1f}G", v / 1e9);
}

std::string Bytes(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  constexpr std::string_view kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", v, kUnits[unit]);
}

// The total, and what of it came in the last interval: "120 (+3)".
std::string Tally(std::uint64_t total, const std::optional<std::uint64_t>& in_interval) {
  if (!in_interval) return fmt::format("{}", total);
  return fmt::format("{} (+{})", total, *in_interval);
}

// "12s", "3m 20s", "2h 5m", "3d 4h".
std::string Uptime(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds >= 1e15) return "-";
  auto total = static_cast<std::uint64_t>(seconds);
  std::uint64_t d = total / 86400, h = total / 3600 % 24, m = total / 60 % 60, s = total % 60;
  if (d > 0) return fmt::format("{}d {}h", d, h);
  if (h > 0) return fmt::format("{}h {}m", h, m);
  if (m > 0) return fmt::format("{}m {}s", m, s);
  return fmt::format("{}s", s);
}

std::string Header(const TopScreenState& state) {
  const TopView* v = state.view;
  if (v == nullptr) return fmt::format("ferry top  {}", Printable(state.socket_path));
  std::string out =
      fmt::format("ferry {}  pid {}  up {}", Printable(v->version), v->pid, Uptime(v->uptime_seconds));
  if (!v->region.empty()) out += fmt::format("  region {}", Printable(v->region));
  if (v->rss_bytes) out += fmt::format("  memory {}", Bytes(*v->rss_bytes));
  return out;
}

struct Column {
  std::string_view heading;
  std::size_t width;
  TopSortKey key;
  bool sortable;
};

// The figure columns after the name, each right-aligned in its width, two spaces apart.
constexpr Column kColumns[] = {
    {"READ/S", 8, TopSortKey::kReadRate, true}, {"SENT/S", 8, TopSortKey::kSentRate, true},
    {"BEHIND", 10, TopSortKey::kBehind, true},  {"SPOOL", 10, TopSortKey::kName, false},
    {"RETRIES", 14, TopSortKey::kName, false},  {"ERRORS", 14, TopSortKey::kErrors, true},
};

std::string Heading(std::string_view heading, bool sorted) {
  return sorted ? fmt::format("[{}]", heading) : std::string(heading);
}

std::string FlowHeading(std::size_t name_width, TopSort sort) {
  std::string line = FitLeft(Heading("FLOW", sort.key == TopSortKey::kName), name_width);
  for (const Column& c : kColumns) {
    line += "  " + Right(Heading(c.heading, c.sortable && c.key == sort.key), c.width);
  }
  return line;
}

std::string FlowLine(const TopFlowRow& row, std::size_t name_width) {
  const std::string cells[] = {
      Rate(row.read_per_s),
      Rate(row.sent_per_s),
      Bytes(row.bytes_behind),
      row.spool_bytes ? Bytes(*row.spool_bytes) : std::string("-"),
      Tally(row.retries, row.retries_in_interval),
      Tally(row.errors, row.errors_in_interval),
  };
  std::string line = FitLeft(row.name, name_width);
  for (std::size_t i = 0; i < std::size(kColumns); ++i) line += "  " + Right(cells[i], kColumns[i].width);
  return line;
}

std::string SortText(TopSort sort) {
  const bool name = sort.key == TopSortKey::kName;
  std::string_view order =
      name ? (sort.reversed ? "Z to A" : "A to Z") : (sort.reversed ? "smallest first" : "largest first");
  return fmt::format("sorted by {}, {}", TopSortKeyName(sort.key), order);
}

std::string KeysLine(const TopScreenState& state) {
  if (state.help) return "keys: q quit  s, 1-5, left/right: sort column  r reverse  ? hide keys";
  return fmt::format("{}; every {}; ? keys, q quit", SortText(state.sort), FormatDuration(state.interval));
}

}  // namespace

std::vector<std::string> RenderTopScreen(const TopScreenState& state, TopScreenSize size) {
  std::vector<std::string> lines;
  if (size.rows == 0) return lines;
  lines.push_back(Header(state));
  if (!state.unreachable.empty()) {
    lines.push_back(fmt::format("not reachable: {}; trying again every {}", Printable(state.unreachable),
                                FormatDuration(state.interval)));
  } else if (state.view == nullptr) {
    lines.push_back("connecting...");
  } else {
    lines.push_back("");
  }
  if (const TopView* v = state.view; v != nullptr && size.rows >= 4) {
    std::size_t name_width = kNameMin;
    for (const auto& row : v->flows) name_width = std::max(name_width, Columns(Printable(row.name)));
    name_width = std::min(name_width, kNameMax);
    lines.push_back(FlowHeading(name_width, state.sort));
    // Rows left below the flows' heading, above the keys line.
    std::size_t room = size.rows - 4;
    std::size_t shown = v->flows.size() <= room ? v->flows.size() : (room > 0 ? room - 1 : 0);
    for (std::size_t i = 0; i < shown; ++i) lines.push_back(FlowLine(v->flows[i], name_width));
    if (shown < v->flows.size() && room > 0) {
      lines.push_back(fmt::format("{} {} more flows", kEllipsis, v->flows.size() - shown));
    }
    if (v->flows.empty() && room > 0) lines.push_back("no flows");
    room -= std::min(room, std::max<std::size_t>(v->flows.size(), 1));
    if (v->lagging_files.empty() && room >= 2) {
      lines.push_back("");
      lines.push_back("no file is behind");
    } else if (room >= 3) {
      lines.push_back("");
      lines.push_back(Right("BEHIND", 10) + "  " + FitLeft("FLOW", name_width) + "  FILE");
      room -= 2;
      const std::size_t path_width = size.columns > name_width + 14 ? size.columns - name_width - 14 : 0;
      std::size_t files = v->lagging_files.size() <= room ? v->lagging_files.size() : room - 1;
      for (std::size_t i = 0; i < files; ++i) {
        const TopFileRow& f = v->lagging_files[i];
        lines.push_back(Right(Bytes(f.bytes_behind), 10) + "  " + FitLeft(f.flow, name_width) + "  " +
                        FitPath(f.path, path_width));
      }
      if (files < v->lagging_files.size()) {
        lines.push_back(fmt::format("{} {} more files behind", kEllipsis, v->lagging_files.size() - files));
      }
    }
  }
  if (size.rows == 1) lines.resize(1);
  if (size.rows >= 2) {
    lines.resize(size.rows - 1);
    lines.push_back(KeysLine(state));
  }
  for (std::string& line : lines) {
    line = std::string(CutRight(line, size.columns));
    // Trailing blanks would only be drawn over the terminal's own.
    while (!line.empty() && line.back() == ' ') line.pop_back();
  }
  return lines;
}

}  // namespace ferry
