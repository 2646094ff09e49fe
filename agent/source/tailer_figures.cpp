// FileTailer's figures: per-file counts summed per flow, the content check, and the status of every file.
#include "agent/source/content_check.h"
#include "agent/source/file_tailer.h"
#include "agent/source/tailed_file.h"

namespace ferry {

FileFigures& FileFigures::operator+=(const FileFigures& o) {
  bytes_read += o.bytes_read;
  records += o.records;
  oversize_records += o.oversize_records;
  rotations += o.rotations;
  nul_records += o.nul_records;
  invalid_utf8_records += o.invalid_utf8_records;
  hole_bytes_skipped += o.hole_bytes_skipped;
  return *this;
}

void FileTailer::Count(File& file, std::uint64_t bytes, const FramingCounters& framing) {
  FileFigures add;
  add.bytes_read = bytes;
  add.records = framing.records;
  add.oversize_records = framing.split_records + framing.truncated_records;
  file.figures += add;
  counters_.files += add;
  counters_.framing += framing;
  if (add.oversize_records > 0 && !file.oversize_warned) {
    file.oversize_warned = true;
    log_.warn("flow {}: {}: a record is longer than max_record_bytes; it is {} (counted as oversize_records)",
              options_.flow, file.path, framing.truncated_records > 0 ? "truncated" : "split into pieces");
  }
}

void FileTailer::CountRotation(File& file) {
  ++file.figures.rotations;
  ++counters_.files.rotations;
}

void FileTailer::CheckContent(File& file, const std::vector<Record>& records, std::string_view framed) {
  ContentFindings found = ferry::CheckContent(framed, records);
  if (!found.any()) return;
  FileFigures add;
  add.nul_records = found.nul_records;
  add.invalid_utf8_records = found.invalid_utf8_records;
  file.figures += add;
  counters_.files += add;
  if (file.content_warned) return;
  file.content_warned = true;
  log_.warn(
      "flow {}: {}: a record ending at offset {} holds {}; such records are shipped unchanged and counted "
      "(nul_records, invalid_utf8_records)",
      options_.flow, file.path, found.first_end_offset,
      found.nul_records > 0 ? "NUL bytes" : "bytes that are not UTF-8");
}

std::vector<TailedFileStatus> FileTailer::Files() const {
  std::vector<TailedFileStatus> out;
  out.reserve(files_.size() + retained_.size());
  for (const auto& [key, file] : files_) {
    out.push_back(
        {file->path, file->offset, file->size, acks_.committed(file->source), file->fd >= 0, file->figures});
  }
  // Files no longer read, while what was read from them waits for its acknowledgement.
  for (const Retained& r : retained_) {
    out.push_back({r.path, r.read_to, r.read_to, acks_.committed(r.source), false, {}});
  }
  return out;
}

}  // namespace ferry
