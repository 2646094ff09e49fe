// FileOffset: ferry reads and writes files past 2 GiB (logs, spool segments, dead letters), so off_t must be
// 64 bits wide on every target, 32-bit ARM boards included. CMakeLists.txt defines _FILE_OFFSET_BITS=64 for
// the whole build; files that use off_t, st_size or pread(2) include this header so a build without it
// fails here instead of truncating offsets at run time.
#pragma once

#include <sys/types.h>

static_assert(sizeof(off_t) == 8,
              "off_t must be 64 bits: build with -D_FILE_OFFSET_BITS=64 (CMakeLists.txt)");
