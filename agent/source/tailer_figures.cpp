// FileTailer's figures: per-file counts summed per flow, the content check, and the status of every file.
#include "agent/core/log_fields.h"
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
              options_.flow, LogFile{file.path},
              framing.truncated_records > 0 ? "truncated" : "split into pieces");
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
      options_.flow, LogFile{file.path}, found.first_end_offset,
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

namespace ferry {

std::string FileTailer::Summary() const {
  return fmt::format("files open {}, bytes read {}, records read {} (split {}, empty lines {})", open_files(),
                     counters_.files.bytes_read, counters_.framing.records, counters_.framing.split_records,
                     counters_.framing.empty_lines);
}

void FileTailer::AppendCounters(std::vector<NamedCounter>& out) const {
  const TailerCounters& t = counters_;
  const FileFigures& f = t.files;
  std::uint64_t behind = 0;
  for (const auto& file : Files()) behind += file.bytes_behind();
  out.insert(out.end(), {
                            {"files_open", open_files()},
                            {"files_known", known_files()},
                            {"files_retained", retained_files()},
                            {"bytes_read", f.bytes_read},
                            {"bytes_behind", behind},
                            {"records_read", f.records},
                            {"oversize_records", f.oversize_records},
                            {"truncated_bytes", t.framing.truncated_bytes},
                            {"empty_lines", t.framing.empty_lines},
                            {"header_lines", t.framing.header_lines},
                            {"multiline_records", t.framing.multiline_records},
                            {"partial_flushes", t.partial_flushes},
                            {"nul_records", f.nul_records},
                            {"invalid_utf8_records", f.invalid_utf8_records},
                            {"hole_bytes_skipped", f.hole_bytes_skipped},
                            {"rotations", f.rotations},
                            {"renames", t.renames},
                            {"truncations", t.truncations},
                            {"copies_followed", t.copies_followed},
                            {"files_opened", t.files_opened},
                            {"files_closed", t.files_closed},
                            {"skipped_not_regular", t.skipped_not_regular},
                            {"skipped_unreadable", t.skipped_unreadable},
                            {"skipped_broken_links", t.skipped_broken_links},
                            {"skipped_errors", t.skipped_errors},
                            {"vanished", t.vanished},
                            {"read_errors", t.read_errors},
                            {"checkpoint_writes", t.checkpoint_writes},
                            {"checkpoint_syncs", t.checkpoint_syncs},
                            {"checkpoint_errors", t.checkpoint_errors},
                            // How long acknowledged positions have waited to be written; 0: none wait.
                            {"checkpoint_age_ms", acked_bytes_ != acked_written_ ? Now() - written_at_ : 0},
                        });
}

}  // namespace ferry
