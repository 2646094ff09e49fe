// DeadLetterWriter: keeps the records an endpoint will never take (ErrorClass::kPermanent) in a JSON-lines
// file under the state folder, durable before Write returns, so the sender can acknowledge them without
// losing them and an operator can inspect or replay them.
//
// One JSON object per line, fields in this order:
//   {"time":"2026-11-26T15:04:05.123Z","flow":...,"destination":...,"error_code":...,"error_message":...,
//    "partition_key":...,"explicit_hash_key":... (only when set),"user_records":N,"data":...}
// "data" holds the record as a JSON string when it is valid UTF-8 without NUL bytes; otherwise the line
// has "data_base64" (standard base64) instead. Text fields that are not valid UTF-8 have each bad byte
// replaced by U+FFFD, so every line is valid JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry {

struct DeadLetter {
  std::string_view flow;
  std::string_view destination;  // e.g. "Kinesis stream 'web'"
  std::string_view error_code;
  std::string_view error_message;
  std::string_view partition_key;
  std::string_view explicit_hash_key;  // empty: none
  std::string_view data;               // raw bytes (may be binary)
  std::uint32_t user_records = 1;
};

// Not thread-safe: one writer per flow, used from one thread.
class DeadLetterWriter {
 public:
  // folder: <state_dir>/dead-letter, created (mode 0750, with its parents) at the first Write. The file is
  // <folder>/<file_stem>.jsonl; the caller makes file_stem safe as a file name. now_ms: wall clock, unix ms.
  DeadLetterWriter(std::string folder, std::string file_stem, std::function<std::int64_t()> now_ms);
  ~DeadLetterWriter();
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  // Appends one line per letter and fdatasyncs the file (and, after creating it, its folder). All or
  // nothing: on an error the file is cut back to its size before the call. The error names the path and
  // the errno ("No space left on device (ENOSPC)").
  Status Write(std::span<const DeadLetter> letters);

  std::uint64_t written() const { return written_; }  // letters written so far
  const std::string& path() const { return path_; }

 private:
  Status Open();

  std::string folder_;
  std::string path_;
  std::function<std::int64_t()> now_ms_;
  int fd_ = -1;
  bool folder_sync_pending_ = false;  // the file was created and its folder entry is not yet durable
  bool newline_pending_ = false;      // the file ends inside a line (a crash mid-write, a failed cut)
  std::uint64_t written_ = 0;
  std::string scratch_;  // the lines of one Write
};

}  // namespace ferry
