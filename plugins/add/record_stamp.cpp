// RecordStamp: ISO 8601 read times and record ids, written without allocation.
#include "plugins/add/record_stamp.h"

#include <algorithm>
#include <chrono>

namespace ferry::plugins {
namespace {

void Digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

void Hex16(char* out, std::uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[value & 0xF];
    value >>= 4;
  }
}

}  // namespace

void FormatIsoMillis(std::int64_t unix_ms, char (&out)[kIsoMillisLength]) {
  using namespace std::chrono;
  // 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
  constexpr std::int64_t kMin = -62167219200000;
  constexpr std::int64_t kMax = 253402300799999;
  const std::int64_t ms = std::clamp(unix_ms, kMin, kMax);
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const auto in_day = static_cast<std::uint64_t>((t - day).count());
  Digits(out, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  out[4] = '-';
  Digits(out + 5, static_cast<unsigned>(ymd.month()), 2);
  out[7] = '-';
  Digits(out + 8, static_cast<unsigned>(ymd.day()), 2);
  out[10] = 'T';
  Digits(out + 11, static_cast<unsigned>(in_day / 3600000), 2);
  out[13] = ':';
  Digits(out + 14, static_cast<unsigned>(in_day / 60000 % 60), 2);
  out[16] = ':';
  Digits(out + 17, static_cast<unsigned>(in_day / 1000 % 60), 2);
  out[19] = '.';
  Digits(out + 20, static_cast<unsigned>(in_day % 1000), 3);
  out[23] = 'Z';
}

void FormatRecordId(std::uint64_t file_id, std::uint64_t end_offset, char (&out)[kRecordIdLength]) {
  Hex16(out, file_id);
  out[16] = '-';
  Hex16(out + 17, end_offset);
}

}  // namespace ferry::plugins
