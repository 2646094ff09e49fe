// RecordStamp: the fixed-width texts the add plugin stamps on records: the read time as ISO 8601 UTC with
// milliseconds, and the record id a consumer dedupes on.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry::plugins {

inline constexpr std::size_t kIsoMillisLength = 24;  // 2026-12-05T07:57:00.123Z
inline constexpr std::size_t kRecordIdLength = 33;   // 16 hex digits, '-', 16 hex digits

// Writes unix_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (proleptic Gregorian, UTC); times before 0000-01-01 or
// after 9999-12-31 are written as those bounds.
void FormatIsoMillis(std::int64_t unix_ms, char (&out)[kIsoMillisLength]);

// Writes "<file_id>-<end_offset>", each as 16 lowercase hex digits: the same for the same record of the
// same file on every run, different for any two records of one file (their end offsets differ), and
// ordered like the records within a file.
void FormatRecordId(std::uint64_t file_id, std::uint64_t end_offset, char (&out)[kRecordIdLength]);

}  // namespace ferry::plugins
