// Discovery: finds the files that a flow's glob patterns name, and the directories to watch so that a new
// matching file is noticed. Patterns are absolute paths whose segments may hold fnmatch(3) wildcards
// (`*`, `?`, `[...]`, backslash is an ordinary character) or be exactly `**` (zero or more directory
// levels). Names that start with '.' are matched only by a segment that starts with '.', and `**` does not
// walk into them (shell rules). Excludes use the same matcher without the hidden-name rule.
//
// Thread rules: pure. No global state, no logging, nothing written; Scan() only reads the file system.
// A Discovery is immutable after Create(), so Scan() and Matches() may run on any thread, concurrently.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace ferry {

struct DiscoveryOptions {
  std::vector<std::string> include;  // glob patterns, absolute
  // Glob patterns; a pattern without '/' is matched against the file's base name, one with '/' (which must
  // then be absolute) against the whole path.
  std::vector<std::string> exclude;
  bool exclude_compressed = true;  // also exclude *.gz *.bz2 *.xz *.zst *.zip *.lz4 (compressed rotations)
};

struct FoundFile {
  std::string path;
  struct stat st;  // from stat(2), symlinks followed; always a regular file
};

// Why a matched path is not read. The caller counts problems by kind and logs them with the path.
enum class ScanProblemKind : std::uint8_t {
  kNotRegular,        // a directory, FIFO, socket or device
  kVanished,          // listed, then gone before it could be looked at
  kPermissionDenied,  // cannot be looked at or listed
  kBrokenLink,        // a dangling symbolic link or a symlink loop
  kError,             // any other error of stat(2) or readdir(3)
};

struct ScanProblem {
  std::string path;
  ScanProblemKind kind;
  std::string reason;  // what is wrong, for the log

  std::string ToString() const { return path + ": " + reason; }
  auto operator<=>(const ScanProblem&) const = default;
};

struct DiscoveryResult {
  // Each regular file matched by an include and no exclude, once: files reached by several paths
  // (symlinks) are deduplicated by (st_dev, st_ino), keeping the first path in sorted order. Sorted by path.
  std::vector<FoundFile> files;
  // Every directory the scan listed or that could hold future matches (the literal parent of a pattern's
  // last segment; the deepest existing directory of a literal prefix that does not exist yet). Existing
  // directories only, once each by (st_dev, st_ino), sorted. The caller watches each with inotify.
  std::vector<std::string> directories;
  // Matches that are not regular files, directories that cannot be listed, paths that vanished during the
  // scan, broken symlinks. Sorted by path, no duplicates.
  std::vector<ScanProblem> problems;
};

class Discovery {
 public:
  // A pattern may have at most this many segments (after `a//b`, `a/./b` and `**/**` are folded).
  static constexpr std::size_t kMaxSegments = 63;

  // Validates and pre-splits the patterns. Each must be non-empty, absolute (an exclude may instead be a
  // base name without '/'), have balanced [...] in every segment, no ".." segment, at most kMaxSegments
  // segments, and name something below "/". A trailing `**` means `**/*`. The error (kInvalidArgument)
  // names every bad pattern and what is wrong with it.
  static Result<Discovery> Create(DiscoveryOptions options);

  // Walks the file system from the patterns: one readdir pass per listed directory, one stat per
  // candidate, symlinked directories followed but no directory walked twice with the same pattern states.
  DiscoveryResult Scan() const;

  // Whether `path` (absolute) would be included: some include matches it and no exclude does. Touches no
  // file system, so it cannot tell a file from a directory; Scan() decides that.
  bool Matches(std::string_view path) const;

 private:
  using StateMask = std::uint64_t;  // bit i: "segment i is next"; bit segments.size(): matched

  enum class SegmentKind : std::uint8_t { kLiteral, kWild, kAnyDirs };
  struct Segment {
    SegmentKind kind;
    std::string text;  // NUL-terminated for fnmatch(3)
  };
  struct Pattern {
    std::vector<Segment> segments;
    StateMask start = 0;       // the state before the first segment (closed over `**`)
    StateMask accept = 0;      // bit segments.size()
    StateMask any_dirs = 0;    // bits of `**` segments
    StateMask needs_list = 0;  // bits of segments that need a directory listing (wildcards, `**`)
    StateMask last = 0;        // bit of the last segment
  };
  class Walk;  // one Scan() in progress (discovery.cpp)

  Discovery() = default;

  // Splits and checks one absolute pattern; returns what is wrong with it.
  static std::optional<std::string> Compile(std::string_view text, Pattern& out);

  // Consumes one path segment: `name` and `cname` hold the same text, cname NUL-terminated.
  static StateMask Step(const Pattern& pattern, StateMask current, std::string_view name, const char* cname,
                        bool hidden_rule);
  static bool MatchPath(const Pattern& pattern, std::string_view path, bool hidden_rule);
  bool Excluded(std::string_view path) const;

  std::vector<Pattern> includes_;
  std::vector<Pattern> path_excludes_;
  std::vector<std::string> name_excludes_;
  bool exclude_compressed_ = true;
};

}  // namespace ferry
