// TailerOptions: how a FileTailer (file_tailer.h) follows one flow's files. Each field's default lives here,
// once: the config's flow keys take their defaults from this struct (config/config.h), so `ferry check
// --keys`, the man page and the tailer agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/core/units.h"

namespace ferry {

// Where a file never seen before starts.
enum class StartAt {
  kEnd,        // files present at the very first start: at their end (what was written before is not sent)
  kBeginning,  // every file from its first byte
};

struct TailerOptions {
  std::string flow;
  StartAt start_at = StartAt::kEnd;          // files present at the first start; later ones from 0
  std::size_t read_chunk_bytes = 256 << 10;  // large reads keep syscalls per line near zero
  std::size_t max_open_files = 1024;
  Duration partial_line_timeout{5000};
  Duration multiline_timeout{2000};
  Duration close_inactive{60000};
  Duration scan_interval{30000};
  Duration checkpoint_interval{5000};  // durable (fsync'd) writes at most this often
  // Acknowledged bytes not yet written that call for a recent (rename-only) write; 0: a quarter of the
  // memory budget's limit, so the acknowledged-but-unwritten bytes stay a fraction of what may be in flight.
  std::uint64_t checkpoint_after_bytes = 0;
  Duration copy_hold{10000};    // how long a suspected copytruncate copy waits for its original to shrink
  std::string checkpoint_path;  // empty: no checkpoints (tests)
};

}  // namespace ferry
