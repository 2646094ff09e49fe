// SendReport: the progress line, the summary and the exit status of `ferry send`.
#include "agent/ops/send_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ferry {
namespace {

constexpr std::size_t kMaxBarWidth = 30;
constexpr std::size_t kMinBarWidth = 5;

std::string Plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string Clock(double seconds) {
  const auto s = static_cast<std::uint64_t>(std::max(0.0, std::round(seconds)));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

// The fraction of the inputs read, when their sizes are known.
double Done(const SendFigures& f) {
  if (!f.sizes_known) return 0;
  if (f.input_bytes_total == 0) return 1;
  return std::min(1.0, static_cast<double>(f.input_bytes_read) / static_cast<double>(f.input_bytes_total));
}

std::string ErrorCounts(const std::map<std::string, std::uint64_t>& errors) {
  std::string out;
  for (const auto& [code, count] : errors) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} x{}", code, count);
  }
  return out;
}

}  // namespace

std::uint64_t SendFigures::records_unsent() const {
  const std::uint64_t done = records_acked + records_dropped + records_dead_lettered + records_failed_plugins;
  return records_read > done ? records_read - done : 0;
}

std::string HumanBytes(double bytes) {
  static constexpr std::string_view kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  std::size_t unit = 0;
  while (bytes >= 999.95 && unit + 1 < std::size(kUnits)) {
    bytes /= 1000;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f} B", bytes);
  return fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string HumanCount(double count) {
  if (count < 1000) return fmt::format("{:.0f}", count);
  if (count < 999'500) return fmt::format("{:.1f}k", count / 1e3);
  if (count < 999'500'000) return fmt::format("{:.2f}M", count / 1e6);
  return fmt::format("{:.2f}G", count / 1e9);
}

int SendExitStatus(const SendOutcome& outcome) {
  if (outcome.signal != 0) return 128 + outcome.signal;
  const SendFigures& f = outcome.figures;
  if (f.records_dead_lettered > 0 || f.records_failed_plugins > 0 || f.records_unsent() > 0 ||
      outcome.gave_up || !outcome.input_errors.empty())
    return 1;
  return 0;
}

std::string FormatSendSummary(const SendOutcome& outcome) {
  const SendFigures& f = outcome.figures;
  std::string out =
      fmt::format("ferry send: {} ({}) read from {}; {} acknowledged by {}",
                  Plural(f.records_read, "record", "records"), HumanBytes(f.bytes_read),
                  Plural(outcome.inputs.size(), "input", "inputs"), f.records_acked, outcome.destination);
  if (f.records_dropped > 0) out += fmt::format(", {} dropped by plugins", f.records_dropped);
  out += fmt::format(" in {:.1f} s\n", f.elapsed_s);
  // Both kinds of dead letter share the file (and standard error when it cannot be written).
  const std::uint64_t dead = f.records_dead_lettered + f.records_failed_plugins;
  if (dead > 0) {
    const std::string_view why = f.records_failed_plugins == 0  ? "refused for good"
                                 : f.records_dead_lettered == 0 ? "failed a plugin"
                                                                : "refused for good or failed a plugin";
    const std::uint64_t to_stderr = std::min(dead, outcome.dead_letters_to_stderr);
    if (dead > to_stderr) {
      out += fmt::format("ferry send: {} {}, written to {}\n", Plural(dead - to_stderr, "record", "records"),
                         why, outcome.dead_letter_path);
    }
    if (to_stderr > 0) {
      out += fmt::format("ferry send: {} {}, written to standard error ({} could not be written)\n",
                         Plural(to_stderr, "record", "records"), why, outcome.dead_letter_path);
    }
  }
  for (const auto& error : outcome.input_errors) out += fmt::format("ferry send: {}\n", error);
  const std::uint64_t unsent = f.records_unsent();
  if (unsent > 0 || outcome.signal != 0 || outcome.gave_up) {
    std::string why;
    if (outcome.signal != 0) {
      why = fmt::format("interrupted by signal {}", outcome.signal);
    } else if (outcome.gave_up) {
      why =
          fmt::format("no acknowledgement for {} (--max-retry-time)", FormatDuration(outcome.max_retry_time));
    }
    if (!outcome.errors.empty())
      why += fmt::format("{}endpoint errors: {}", why.empty() ? "" : "; ", ErrorCounts(outcome.errors));
    out += fmt::format("ferry send: {} not sent{}{}\n", Plural(unsent, "record", "records"),
                       why.empty() ? "" : ": ", why);
    for (const auto& in : outcome.inputs) {
      if (in.read_to_end && in.bytes_acked >= in.bytes_read) continue;
      out += fmt::format("ferry send: {}: sent up to byte {} of the {} read{}\n", in.name, in.bytes_acked,
                         in.bytes_read, in.read_to_end ? "" : " (not read to its end)");
    }
  }
  return out;
}

std::string FormatSendProgress(const SendFigures& f, std::size_t width) {
  const double rate = f.elapsed_s > 0 ? static_cast<double>(f.records_acked) / f.elapsed_s : 0;
  const std::string records_read = HumanCount(static_cast<double>(f.records_read));
  const std::string acked =
      fmt::format("{} rec {} acked, {} rec/s", HumanCount(static_cast<double>(f.records_acked)),
                  HumanBytes(static_cast<double>(f.bytes_acked)), HumanCount(rate));
  std::string full =
      fmt::format("{} rec {} read, {}", records_read, HumanBytes(static_cast<double>(f.bytes_read)), acked);
  if (!f.sizes_known) return full.substr(0, width);
  // Without the bytes read, for a terminal too narrow for the bar beside everything.
  std::string brief = fmt::format("{} rec read, {}", records_read, acked);
  const double done = Done(f);
  const std::string percent = fmt::format("{:3.0f}%", std::floor(done * 100));
  if (done < 1 && done > 0) {
    const std::string left = fmt::format(", {} left", Clock(f.elapsed_s * (1 - done) / done));
    full += left;
    brief += left;
  }
  for (const std::string* body : {&full, &brief}) {
    const std::size_t rest = percent.size() + 1 + body->size();
    if (rest + 3 + kMinBarWidth > width) continue;
    const std::size_t bar = std::min(kMaxBarWidth, width - rest - 3);
    const auto hashes = static_cast<std::size_t>(std::floor(done * static_cast<double>(bar)));
    return fmt::format("{} [{}{}] {}", percent, std::string(hashes, '#'), std::string(bar - hashes, '-'),
                       *body);
  }
  return (percent + " " + full).substr(0, width);
}

}  // namespace ferry
