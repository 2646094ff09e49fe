// Discovery: glob patterns with `**`, walked with opendir/readdir, and the same matcher for single paths.
// Each pattern is a list of segments run as a small NFA whose states fit in one 64-bit mask, so a scan
// carries a few masks per directory and Matches() consumes a path segment by segment with no allocation.
// Thread rules: pure, any thread, no global state (see discovery.h).
#include "agent/source/discovery.h"

#include <dirent.h>
#include <fnmatch.h>
#include <limits.h>
#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <map>
#include <numeric>
#include <optional>
#include <utility>

#include "agent/core/errno_text.h"

namespace ferry {
namespace {

constexpr int kFnmatchFlags = FNM_NOESCAPE;  // backslash is an ordinary character; `[*]` is a literal '*'

constexpr std::uint64_t Bit(std::size_t i) {
  return std::uint64_t{1} << i;
}

// Calls f(segment) for each non-empty segment of path other than ".", until f returns false.
template <typename F>
void ForEachSegment(std::string_view path, F&& f) {
  std::size_t at = 0;
  while (at < path.size()) {
    std::size_t end = path.find('/', at);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(at, end - at);
    at = end + 1;
    if (seg.empty() || seg == ".") continue;
    if (!f(seg)) return;
  }
}

// A NUL-terminated copy of a path segment for fnmatch(3), on the stack for any real file name.
class CString {
 public:
  const char* Set(std::string_view s) {
    if (s.size() < sizeof(small_)) {
      std::memcpy(small_, s.data(), s.size());
      small_[s.size()] = '\0';
      return small_;
    }
    big_.assign(s);  // longer than NAME_MAX: no file has this name, but answer correctly anyway
    return big_.c_str();
  }

 private:
  char small_[NAME_MAX + 1];
  std::string big_;
};

// Whether every '[' in seg opens a bracket expression that is closed, as fnmatch(3) reads them: a ']'
// right after "[" or "[!" / "[^" is a member, and "[:class:]", "[.sym.]", "[=eq=]" are skipped whole.
bool BracketsBalanced(std::string_view seg) {
  const std::size_t n = seg.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (seg[i] != '[') continue;
    std::size_t j = i + 1;
    if (j < n && (seg[j] == '!' || seg[j] == '^')) ++j;
    if (j < n && seg[j] == ']') ++j;
    bool closed = false;
    while (j < n) {
      if (seg[j] == '[' && j + 1 < n && (seg[j + 1] == ':' || seg[j + 1] == '.' || seg[j + 1] == '=')) {
        const char close[] = {seg[j + 1], ']', '\0'};
        std::size_t end = seg.find(close, j + 2);
        if (end == std::string_view::npos) return false;
        j = end + 2;
        continue;
      }
      if (seg[j] == ']') {
        closed = true;
        break;
      }
      ++j;
    }
    if (!closed) return false;
    i = j;
  }
  return true;
}

bool IsCompressedName(std::string_view base) {
  static constexpr std::string_view kSuffixes[] = {".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4"};
  for (std::string_view suffix : kSuffixes) {
    if (base.size() < suffix.size()) continue;
    std::string_view tail = base.substr(base.size() - suffix.size());
    bool same = std::equal(tail.begin(), tail.end(), suffix.begin(), [](char a, char b) {
      return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
    });
    if (same) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Matching

Discovery::StateMask Discovery::Step(const Pattern& pattern, StateMask current, std::string_view name,
                                     const char* cname, bool hidden_rule) {
  const bool hidden = !name.empty() && name[0] == '.';
  const int flags = kFnmatchFlags | (hidden_rule ? FNM_PERIOD : 0);
  StateMask next = 0;
  for (StateMask m = current & ~pattern.accept; m != 0; m &= m - 1) {
    const auto i = static_cast<std::size_t>(std::countr_zero(m));
    const Segment& seg = pattern.segments[i];
    switch (seg.kind) {
      case SegmentKind::kLiteral:
        if (name == seg.text) next |= Bit(i + 1);
        break;
      case SegmentKind::kWild:
        if (::fnmatch(seg.text.c_str(), cname, flags) == 0) next |= Bit(i + 1);
        break;
      case SegmentKind::kAnyDirs:
        if (!(hidden_rule && hidden)) next |= Bit(i);
        break;
    }
  }
  // `**` may also match zero levels: the segment after it is next too. `**` never follows `**`.
  return next | ((next & pattern.any_dirs) << 1);
}

bool Discovery::MatchPath(const Pattern& pattern, std::string_view path, bool hidden_rule) {
  if (path.empty() || path[0] != '/') return false;
  StateMask state = pattern.start;
  CString cname;
  ForEachSegment(path, [&](std::string_view seg) {
    state = Step(pattern, state, seg, cname.Set(seg), hidden_rule);
    return state != 0;
  });
  return (state & pattern.accept) != 0;
}

bool Discovery::Excluded(std::string_view path) const {
  std::size_t slash = path.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (exclude_compressed_ && IsCompressedName(base)) return true;
  if (!name_excludes_.empty()) {
    CString cbase;
    const char* c = cbase.Set(base);
    for (const auto& pattern : name_excludes_) {
      if (::fnmatch(pattern.c_str(), c, kFnmatchFlags) == 0) return true;
    }
  }
  for (const auto& pattern : path_excludes_) {
    if (MatchPath(pattern, path, /*hidden_rule=*/false)) return true;
  }
  return false;
}

bool Discovery::Matches(std::string_view path) const {
  bool included = std::any_of(includes_.begin(), includes_.end(), [&](const Pattern& pattern) {
    return MatchPath(pattern, path, /*hidden_rule=*/true);
  });
  return included && !Excluded(path);
}

// ---------------------------------------------------------------------------------------------------
// Create

std::optional<std::string> Discovery::Compile(std::string_view text, Pattern& out) {
  if (text.empty()) return "is empty";
  if (text[0] != '/') return "is not an absolute path (it must start with '/')";
  std::optional<std::string> problem;
  ForEachSegment(text, [&](std::string_view seg) {
    if (seg == "..") {
      problem = "has a '..' segment";
      return false;
    }
    if (seg == "**") {
      if (out.segments.empty() || out.segments.back().kind != SegmentKind::kAnyDirs) {
        out.segments.push_back(Segment{SegmentKind::kAnyDirs, std::string(seg)});
      }
      return true;
    }
    if (!BracketsBalanced(seg)) {
      problem = "has an unbalanced '[' in segment \"" + std::string(seg) + "\"";
      return false;
    }
    const bool wild = seg.find_first_of("*?[") != std::string_view::npos;
    out.segments.push_back(Segment{wild ? SegmentKind::kWild : SegmentKind::kLiteral, std::string(seg)});
    return true;
  });
  if (problem) return problem;
  if (out.segments.empty()) return "names no file below '/'";
  if (out.segments.back().kind == SegmentKind::kAnyDirs)
    out.segments.push_back(Segment{SegmentKind::kWild, "*"});
  if (out.segments.size() > kMaxSegments)
    return "has more than " + std::to_string(kMaxSegments) + " segments";
  for (std::size_t i = 0; i < out.segments.size(); ++i) {
    if (out.segments[i].kind == SegmentKind::kAnyDirs) out.any_dirs |= Bit(i);
    if (out.segments[i].kind != SegmentKind::kLiteral) out.needs_list |= Bit(i);
  }
  out.accept = Bit(out.segments.size());
  out.last = Bit(out.segments.size() - 1);
  out.start = Bit(0) | ((Bit(0) & out.any_dirs) << 1);
  return std::nullopt;
}

Result<Discovery> Discovery::Create(DiscoveryOptions options) {
  Discovery d;
  d.exclude_compressed_ = options.exclude_compressed;
  std::string errors;
  auto fail = [&errors](std::string_view role, std::string_view text, std::string_view what) {
    if (!errors.empty()) errors += "; ";
    errors += role;
    errors += " pattern \"";
    errors += text;
    errors += "\" ";
    errors += what;
  };
  for (const auto& text : options.include) {
    Pattern p;
    if (auto problem = Compile(text, p)) {
      fail("include", text, *problem);
    } else {
      d.includes_.push_back(std::move(p));
    }
  }
  for (const auto& text : options.exclude) {
    if (text.empty()) {
      fail("exclude", text, "is empty");
    } else if (text.find('/') == std::string::npos) {
      if (BracketsBalanced(text)) {
        d.name_excludes_.push_back(text);
      } else {
        fail("exclude", text, "has an unbalanced '['");
      }
    } else {
      Pattern p;
      if (auto problem = Compile(text, p)) {
        fail("exclude", text,
             text[0] == '/' ? *problem
                            : std::string_view("is neither an absolute path nor a base name without '/'"));
      } else {
        d.path_excludes_.push_back(std::move(p));
      }
    }
  }
  if (!errors.empty()) return Error(ErrorCode::kInvalidArgument, std::move(errors));
  return d;
}

// ---------------------------------------------------------------------------------------------------
// Scan

class Discovery::Walk {
 public:
  explicit Walk(const Discovery& d) : d_(d), n_(d.includes_.size()) {}

  DiscoveryResult Run();

 private:
  using Masks = std::vector<StateMask>;  // one per include pattern
  struct Key {
    dev_t dev;
    ino_t ino;
    bool operator==(const Key&) const = default;
    bool operator<(const Key& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
  };
  struct Dir {
    std::string path;
    Key key;
  };
  struct Ancestor {
    Key key;
    std::size_t path_size;  // its path is path_.substr(0, path_size)
  };
  struct Descent {
    std::string name;
    Masks masks;
    struct stat st;
    bool have_stat;
  };
  // What one child name means for the patterns (computed into next_).
  struct Verdict {
    bool final = false;        // some pattern ends at this name
    bool deeper = false;       // some pattern continues below it (if it is a directory)
    bool dir_problem = false;  // a pattern ends here that does not also walk into it with `**`
  };

  void Enter(const struct stat& st, Masks masks);
  void List(const struct stat& st, const Masks& masks);
  void FollowLiterals(const struct stat& st, const Masks& masks);
  Verdict Judge(const Masks& masks, std::string_view name, const char* cname);
  void Consider(const struct stat& st, bool dir_problem);
  // stat(2) of path_; returns 0 or the errno, having reported what a failure means. `listed`: the name
  // came from readdir, so ENOENT means it vanished (or is a dangling symlink), not "not created yet".
  int StatPath(struct stat& st, bool listed);
  void AddDir(const struct stat& st) {
    dirs_.push_back(Dir{path_.empty() ? std::string("/") : path_, Key{st.st_dev, st.st_ino}});
  }
  void Problem(ScanProblemKind kind, std::string_view reason) {
    problems_.push_back(ScanProblem{path_.empty() ? std::string("/") : path_, kind, std::string(reason)});
  }

  const Discovery& d_;
  const std::size_t n_;
  std::string path_;  // the path being looked at; "" is the root
  Masks next_;        // scratch: the states after the child name being judged
  std::vector<FoundFile> files_;
  std::vector<Dir> dirs_;
  std::vector<ScanProblem> problems_;
  std::map<Key, Masks> visited_;  // the states each directory was walked with
  std::vector<Ancestor> stack_;
};

DiscoveryResult Discovery::Scan() const {
  return Walk(*this).Run();
}

DiscoveryResult Discovery::Walk::Run() {
  next_.assign(n_, 0);
  DiscoveryResult out;
  if (n_ == 0) return out;
  struct stat root;
  if (::stat("/", &root) != 0) {
    Problem(ScanProblemKind::kError, ErrnoText(errno));
  } else {
    Masks masks(n_);
    for (std::size_t i = 0; i < n_; ++i) masks[i] = d_.includes_[i].start;
    Enter(root, std::move(masks));
  }

  // Files: sorted by path, then the first path of each (dev, ino) kept.
  std::sort(files_.begin(), files_.end(),
            [](const FoundFile& a, const FoundFile& b) { return a.path < b.path; });
  std::vector<std::size_t> order(files_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
    const struct stat& x = files_[a].st;
    const struct stat& y = files_[b].st;
    if (x.st_dev != y.st_dev) return x.st_dev < y.st_dev;
    if (x.st_ino != y.st_ino) return x.st_ino < y.st_ino;
    return a < b;
  });
  std::vector<char> keep(files_.size(), 1);
  for (std::size_t k = 1; k < order.size(); ++k) {
    const struct stat& x = files_[order[k - 1]].st;
    const struct stat& y = files_[order[k]].st;
    if (x.st_dev == y.st_dev && x.st_ino == y.st_ino) keep[order[k]] = 0;
  }
  out.files.reserve(files_.size());
  for (std::size_t k = 0; k < files_.size(); ++k) {
    if (keep[k]) out.files.push_back(std::move(files_[k]));
  }

  // Directories: sorted by path, the first path of each (dev, ino) kept.
  std::sort(dirs_.begin(), dirs_.end(), [](const Dir& a, const Dir& b) { return a.path < b.path; });
  std::map<Key, bool> seen_dirs;
  for (auto& dir : dirs_) {
    if (seen_dirs.emplace(dir.key, true).second) out.directories.push_back(std::move(dir.path));
  }

  std::sort(problems_.begin(), problems_.end());
  problems_.erase(std::unique(problems_.begin(), problems_.end()), problems_.end());
  out.problems = std::move(problems_);
  return out;
}

// path_ names a directory whose children are to be matched against `masks`.
void Discovery::Walk::Enter(const struct stat& st, Masks masks) {
  const Key key{st.st_dev, st.st_ino};
  Masks& seen = visited_[key];
  if (seen.empty()) seen.assign(n_, 0);
  bool fresh = false;
  bool list = false;
  bool holds = false;
  for (std::size_t i = 0; i < n_; ++i) {
    masks[i] &= ~seen[i];  // states already walked here (through another path) are not walked again
    seen[i] |= masks[i];
    fresh = fresh || masks[i] != 0;
    list = list || (masks[i] & d_.includes_[i].needs_list) != 0;
    holds = holds || (masks[i] & d_.includes_[i].last) != 0;
  }
  if (!fresh) {
    for (const auto& a : stack_) {
      if (a.key == key) {
        std::string_view back(path_.data(), a.path_size);
        Problem(ScanProblemKind::kBrokenLink,
                "symlink loop (leads back to " + std::string(back.empty() ? "/" : back) + ")");
        break;
      }
    }
    return;
  }
  stack_.push_back(Ancestor{key, path_.size()});
  if (holds && !list) AddDir(st);  // the literal parent of a last segment: a file may appear here
  if (list) {
    List(st, masks);
  } else {
    FollowLiterals(st, masks);
  }
  stack_.pop_back();
}

Discovery::Walk::Verdict Discovery::Walk::Judge(const Masks& masks, std::string_view name,
                                                const char* cname) {
  Verdict v;
  for (std::size_t i = 0; i < n_; ++i) {
    if (masks[i] == 0) {
      next_[i] = 0;
      continue;
    }
    const Pattern& p = d_.includes_[i];
    StateMask m = Step(p, masks[i], name, cname, /*hidden_rule=*/true);
    next_[i] = m & ~p.accept;
    if (m & p.accept) {
      v.final = true;
      if ((m & p.any_dirs) == 0) v.dir_problem = true;
    }
    if (next_[i] != 0) v.deeper = true;
  }
  return v;
}

int Discovery::Walk::StatPath(struct stat& st, bool listed) {
  const char* path = path_.empty() ? "/" : path_.c_str();
  if (::stat(path, &st) == 0) return 0;
  const int err = errno;
  switch (err) {
    case ENOENT: {
      if (!listed) break;  // a literal segment that does not exist (yet)
      struct stat lst;
      if (::lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        Problem(ScanProblemKind::kBrokenLink, "dangling symbolic link");
      } else {
        Problem(ScanProblemKind::kVanished, "vanished during the scan");
      }
      break;
    }
    case ENOTDIR:
      if (listed)
        Problem(ScanProblemKind::kVanished, "vanished during the scan");  // a parent was replaced by a file
      break;
    case ELOOP:
      Problem(ScanProblemKind::kBrokenLink, "symlink loop");
      break;
    case EACCES:
      Problem(ScanProblemKind::kPermissionDenied, "permission denied");
      break;
    default:
      Problem(ScanProblemKind::kError, ErrnoText(err));
      break;
  }
  return err;
}

void Discovery::Walk::Consider(const struct stat& st, bool dir_problem) {
  const mode_t mode = st.st_mode;
  if (S_ISREG(mode)) {
    files_.push_back(FoundFile{path_, st});
  } else if (S_ISDIR(mode)) {
    if (dir_problem) Problem(ScanProblemKind::kNotRegular, "is a directory, not a file");
  } else if (S_ISFIFO(mode)) {
    Problem(ScanProblemKind::kNotRegular, "is a FIFO, not a regular file");
  } else if (S_ISSOCK(mode)) {
    Problem(ScanProblemKind::kNotRegular, "is a socket, not a regular file");
  } else if (S_ISCHR(mode)) {
    Problem(ScanProblemKind::kNotRegular, "is a character device, not a regular file");
  } else if (S_ISBLK(mode)) {
    Problem(ScanProblemKind::kNotRegular, "is a block device, not a regular file");
  } else {
    Problem(ScanProblemKind::kNotRegular, "is not a regular file");
  }
}

// One readdir pass; candidates are stat'ed as they are met, directories are entered after closedir (so
// one descriptor is open at a time per level) in name order (so which of several symlinked paths to a
// directory is walked does not depend on readdir order).
void Discovery::Walk::List(const struct stat& st, const Masks& masks) {
  const std::size_t base = path_.size();
  DIR* dir = ::opendir(path_.empty() ? "/" : path_.c_str());
  if (dir == nullptr) {
    const int err = errno;
    if (err == EACCES) {
      Problem(ScanProblemKind::kPermissionDenied, "permission denied (cannot list the directory)");
    } else if (err == ENOENT || err == ENOTDIR) {
      Problem(ScanProblemKind::kVanished, "vanished during the scan");
    } else {
      Problem(ScanProblemKind::kError, "cannot list the directory: " + ErrnoText(err));
    }
    return;
  }
  AddDir(st);
  std::vector<Descent> descents;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) Problem(ScanProblemKind::kError, "cannot list the directory: " + ErrnoText(errno));
      break;
    }
    const char* cname = entry->d_name;
    if (cname[0] == '.' && (cname[1] == '\0' || (cname[1] == '.' && cname[2] == '\0'))) continue;
    const std::string_view name(cname);
    const Verdict v = Judge(masks, name, cname);
    if (!v.final && !v.deeper) continue;
    const unsigned char type = entry->d_type;
    const bool maybe_dir = type == DT_DIR || type == DT_LNK || type == DT_UNKNOWN;
    if (!v.final && !maybe_dir) continue;

    path_.resize(base);
    path_ += '/';
    path_ += name;
    struct stat cst {};
    bool have = false;
    if (v.final && !d_.Excluded(path_)) {
      have = StatPath(cst, /*listed=*/true) == 0;
      if (!have) continue;
      Consider(cst, v.dir_problem);
    }
    if (v.deeper && maybe_dir && (!have || S_ISDIR(cst.st_mode))) {
      descents.push_back(Descent{std::string(name), next_, cst, have});
    }
  }
  ::closedir(dir);

  std::sort(descents.begin(), descents.end(),
            [](const Descent& a, const Descent& b) { return a.name < b.name; });
  for (auto& descent : descents) {
    path_.resize(base);
    path_ += '/';
    path_ += descent.name;
    if (!descent.have_stat && StatPath(descent.st, /*listed=*/true) != 0) continue;
    if (S_ISDIR(descent.st.st_mode)) Enter(descent.st, std::move(descent.masks));
  }
  path_.resize(base);
}

// No pattern needs a listing here: each literal name is looked up with one stat.
void Discovery::Walk::FollowLiterals(const struct stat& st, const Masks& masks) {
  std::vector<std::string_view> names;
  for (std::size_t i = 0; i < n_; ++i) {
    const Pattern& p = d_.includes_[i];
    for (StateMask m = masks[i] & ~p.accept; m != 0; m &= m - 1) {
      names.push_back(p.segments[static_cast<std::size_t>(std::countr_zero(m))].text);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  const std::size_t base = path_.size();
  for (std::string_view name : names) {
    const Verdict v = Judge(masks, name, name.data());  // segment texts are NUL-terminated
    if (!v.final && !v.deeper) continue;
    Masks next = next_;
    path_.resize(base);
    path_ += '/';
    path_ += name;
    struct stat cst {};
    int err = -1;  // not stat'ed yet
    if (v.final && !d_.Excluded(path_)) {
      err = StatPath(cst, /*listed=*/false);
      if (err == 0) Consider(cst, v.dir_problem);
    }
    if (v.deeper) {
      if (err == -1) err = StatPath(cst, /*listed=*/false);
      if (err == 0 && S_ISDIR(cst.st_mode)) Enter(cst, std::move(next));
      // A literal directory that does not exist yet: watch the deepest one that does, to see it created.
      if (err == ENOENT) {
        path_.resize(base);
        AddDir(st);
      }
    }
  }
  path_.resize(base);
}

}  // namespace ferry
