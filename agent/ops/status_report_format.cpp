// FormatStatusReport: rapidjson's DOM (replies are small), every lookup tolerant of a missing or mistyped
// key. Object members are walked by index: clang rejects rapidjson's member iterator comparisons as
// ambiguous in C++20.
#include "agent/ops/status_report_format.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace ferry {
namespace {

using rapidjson::Value;

constexpr std::string_view kMissing = "-";

const Value* Member(const Value* object, const char* key) {
  if (object == nullptr || !object->IsObject() || !object->HasMember(key)) return nullptr;
  return &(*object)[key];
}

// File names are chosen by whoever writes logs; control characters would garble the terminal (as ls does,
// they become '?').
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string Scalar(const Value* v) {
  if (v == nullptr) return std::string(kMissing);
  if (v->IsUint64()) return fmt::format("{}", v->GetUint64());
  if (v->IsInt64()) return fmt::format("{}", v->GetInt64());
  if (v->IsDouble()) return fmt::format("{}", v->GetDouble());
  if (v->IsString()) return Printable(std::string_view(v->GetString(), v->GetStringLength()));
  if (v->IsBool()) return v->GetBool() ? "yes" : "no";
  return std::string(kMissing);
}

// "12.5s" under a minute, then whole seconds: "3m 20s", "2h 0m 5s", "3d 4h 0m 0s".
std::string Uptime(const Value* v) {
  if (v == nullptr || !v->IsNumber()) return std::string(kMissing);
  double seconds = v->GetDouble();
  // 2^64 and beyond cannot be whole seconds in 64 bits (converting them is undefined): no daemon's uptime.
  constexpr double kTooLong = 18446744073709551616.0;
  if (!std::isfinite(seconds) || seconds < 0 || seconds >= kTooLong) return std::string(kMissing);
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  auto total = static_cast<std::uint64_t>(seconds);
  std::uint64_t d = total / 86400, h = total / 3600 % 24, m = total / 60 % 60, s = total % 60;
  if (d > 0) return fmt::format("{}d {}h {}m {}s", d, h, m, s);
  if (h > 0) return fmt::format("{}h {}m {}s", h, m, s);
  return fmt::format("{}m {}s", m, s);
}

// "key value" for every member of an object, in its order.
std::vector<std::string> Pairs(const Value* object) {
  std::vector<std::string> items;
  if (object == nullptr || !object->IsObject()) return items;
  for (rapidjson::SizeType i = 0; i < object->MemberCount(); ++i) {
    const auto& m = object->MemberBegin()[i];
    items.push_back(Printable(std::string_view(m.name.GetString(), m.name.GetStringLength())) + " " +
                    Scalar(&m.value));
  }
  return items;
}

// Items two spaces apart after `lead`; continuation lines are indented as far as `lead`.
void AppendWrapped(std::string& out, std::string_view lead, const std::vector<std::string>& items) {
  std::string line(lead);
  bool empty = true;
  for (const auto& item : items) {
    if (!empty && line.size() + 2 + item.size() > kStatusReportWidth) {
      out += line + '\n';
      line.assign(lead.size(), ' ');
      empty = true;
    }
    if (!empty) line += "  ";
    line += item;
    empty = false;
  }
  if (!empty) out += line + '\n';
}

// Terminal columns of UTF-8 text, counted as code points (a wide character counts as one).
std::size_t Columns(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

constexpr std::size_t kFileColumns = 7;
using Row = std::array<std::string, kFileColumns>;

// PATH left-aligned, the counts right-aligned, OPEN last and unpadded.
void AppendFileTable(std::string& out, const Value* files) {
  if (files == nullptr || !files->IsArray() || files->Empty()) {
    out += "  no files\n";
    return;
  }
  std::vector<Row> rows{{"PATH", "OFFSET", "BEHIND", "LINES", "OVERSIZE", "ROTATIONS", "OPEN"}};
  for (const Value& f : files->GetArray()) {
    rows.push_back({Scalar(Member(&f, "path")), Scalar(Member(&f, "offset")),
                    Scalar(Member(&f, "bytes_behind")), Scalar(Member(&f, "lines")),
                    Scalar(Member(&f, "oversize")), Scalar(Member(&f, "rotations")),
                    Scalar(Member(&f, "open"))});
  }
  std::array<std::size_t, kFileColumns> width{};
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < kFileColumns; ++c) width[c] = std::max(width[c], Columns(row[c]));
  }
  for (const Row& row : rows) {
    std::string line = "  " + row[0] + std::string(width[0] - Columns(row[0]), ' ');
    for (std::size_t c = 1; c + 1 < kFileColumns; ++c) line += fmt::format("  {:>{}}", row[c], width[c]);
    line += "  " + row.back();
    out += line + '\n';
  }
}

// 1234567 as "1,234,567".
std::string Thousands(std::uint64_t n) {
  std::string digits = fmt::format("{}", n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

const Value* Counter(const Value* counters, const char* name) {
  const Value* v = Member(counters, name);
  return v != nullptr && v->IsUint64() ? v : nullptr;
}

// "  billing: 1,204 PUT payload units for 120,400 lines (120,400 if sent one per line: 99.0% saved)" for a
// flow whose output counts what AWS bills (Kinesis PUT payload units, Firehose billed bytes); nothing for
// one that does not.
void AppendBilling(std::string& out, const Value* counters) {
  const char* unit = "PUT payload units";
  const Value* billed = Counter(counters, "put_payload_units");
  const Value* alone = Counter(counters, "put_payload_units_unaggregated");
  if (billed == nullptr) {
    unit = "bytes billed";
    billed = Counter(counters, "billed_bytes");
    alone = Counter(counters, "billed_bytes_unaggregated");
  }
  const Value* lines = Counter(counters, "records_sent");
  if (billed == nullptr || alone == nullptr || lines == nullptr) return;
  const std::uint64_t b = billed->GetUint64(), a = alone->GetUint64();
  out += fmt::format("  billing: {} {} for {} lines", Thousands(b), unit, Thousands(lines->GetUint64()));
  if (a > 0) {
    // Aggregates can cost more than their records alone (two records of 25,600 bytes: 2 units, 3 together).
    const double saved = 100.0 * (static_cast<double>(a) - static_cast<double>(b)) / static_cast<double>(a);
    out += fmt::format(" ({} if sent one per line: {:.1f}% {})", Thousands(a), saved >= 0 ? saved : -saved,
                       saved >= 0 ? "saved" : "more");
  }
  out += '\n';
}

void AppendFlow(std::string& out, const Value& flow) {
  out += fmt::format("flow {}\n", Scalar(Member(&flow, "name")));
  AppendWrapped(out, "  ", Pairs(Member(&flow, "counters")));
  AppendBilling(out, Member(&flow, "counters"));
  AppendWrapped(out, "  errors: ", Pairs(Member(&flow, "errors")));
  if (const Value* plugins = Member(&flow, "plugins"); plugins != nullptr && plugins->IsArray()) {
    for (const Value& plugin : plugins->GetArray()) {
      std::vector<std::string> items = Pairs(&plugin);
      std::erase_if(items, [](const std::string& item) { return item.starts_with("name "); });
      AppendWrapped(out, fmt::format("  plugin {}: ", Scalar(Member(&plugin, "name"))), items);
    }
  }
  AppendFileTable(out, Member(&flow, "files"));
}

}  // namespace

Result<std::string> FormatStatusReport(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(),
                                            json.size());  // iterative: no recursion depth to exhaust
  if (doc.HasParseError()) {
    return Error(ErrorCode::kProtocol,
                 fmt::format("status reply is not valid JSON: {} (at byte {})",
                             rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Error(ErrorCode::kProtocol, "status reply is not a JSON object");

  std::string out = fmt::format("ferry {}, pid {}, up {}\n", Scalar(Member(&doc, "ferry")),
                                Scalar(Member(&doc, "pid")), Uptime(Member(&doc, "uptime_seconds")));
  if (const Value* aws = Member(&doc, "aws"); aws != nullptr && aws->IsObject()) {
    out += fmt::format("AWS region {}, credentials from {} (access key {})", Scalar(Member(aws, "region")),
                       Scalar(Member(aws, "credentials")), Scalar(Member(aws, "access_key")));
    if (const Value* expire = Member(aws, "expire_in_s"); expire != nullptr && expire->IsInt64()) {
      out += fmt::format(", expire in {}", Uptime(expire));
    }
    out += fmt::format(", {} refreshes, {} failed\n", Scalar(Member(aws, "refreshes")),
                       Scalar(Member(aws, "refresh_failures")));
  }
  const Value* flows = Member(&doc, "flows");
  if (flows == nullptr || !flows->IsArray() || flows->Empty()) {
    out += "no flows\n";
    return out;
  }
  for (const Value& flow : flows->GetArray()) {
    out += '\n';
    AppendFlow(out, flow);
  }
  return out;
}

}  // namespace ferry
