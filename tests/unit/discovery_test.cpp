// Tests of Discovery (agent/source/discovery): glob segments, `**`, hidden names, excludes, compressed
// rotations, what is reported as a problem, symlinks and loops, the directories to watch, Matches()
// against Scan(), pattern validation, and the time to scan 10,000 files. Each test builds its own tree
// under a mkdtemp(3) directory and removes it at the end. Single-threaded; no global state is touched. Run as
// root, the unreadable-directory check is skipped with a warning (permissions do not apply to root).
#include "agent/source/discovery.h"
#include "tests/unit/without_file_capabilities.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace ferry {
namespace {

namespace fs = std::filesystem;

// A temporary directory tree, removed (permissions restored first) when the test ends.
class TempTree {
 public:
  TempTree() {
    std::string templ = "/tmp/ferry-discovery-XXXXXX";
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    root_ = fs::canonical(templ).string();  // /tmp could be a symlink; paths in results are as walked
  }
  ~TempTree() {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
    }
    fs::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string operator/(const std::string& rel) const { return root_ + "/" + rel; }

  // Creates a file (and its parents) relative to the root.
  void File(const std::string& rel, const std::string& content = "x\n") const {
    fs::create_directories(fs::path(*this / rel).parent_path());
    std::ofstream(*this / rel) << content;
  }
  void Files(std::initializer_list<std::string> rels) const {
    for (const auto& rel : rels) File(rel);
  }
  void Dir(const std::string& rel) const { fs::create_directories(*this / rel); }
  void Link(const std::string& target, const std::string& rel) const {
    fs::create_directories(fs::path(*this / rel).parent_path());
    REQUIRE(::symlink(target.c_str(), (*this / rel).c_str()) == 0);
  }

 private:
  std::string root_;
};

Discovery Make(DiscoveryOptions options) {
  auto d = Discovery::Create(std::move(options));
  if (!d.ok()) FAIL("Create failed: " << d.error().message());
  return std::move(d).value();
}

Discovery Make(std::vector<std::string> include, std::vector<std::string> exclude = {}) {
  DiscoveryOptions o;
  o.include = std::move(include);
  o.exclude = std::move(exclude);
  return Make(std::move(o));
}

// The found files' paths relative to the tree's root (paths outside the root stay absolute).
std::vector<std::string> Rel(const TempTree& t, const DiscoveryResult& r) {
  std::vector<std::string> out;
  for (const auto& f : r.files) {
    CHECK(S_ISREG(f.st.st_mode));
    out.push_back(f.path.rfind(t.root() + "/", 0) == 0 ? f.path.substr(t.root().size() + 1) : f.path);
  }
  return out;
}

std::vector<std::string> Found(const TempTree& t, std::vector<std::string> include,
                               std::vector<std::string> exclude = {}) {
  for (auto& p : include) p = t.root() + "/" + p;
  for (auto& p : exclude) {
    if (p.find('/') != std::string::npos) p = t.root() + "/" + p;
  }
  auto r = Make(std::move(include), std::move(exclude)).Scan();
  return Rel(t, r);
}

using Paths = std::vector<std::string>;

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Whether some problem starts with "path: " and mentions `words`.
bool HasProblem(const DiscoveryResult& r, const std::string& path, const std::string& words) {
  return std::any_of(r.problems.begin(), r.problems.end(), [&](const ScanProblem& p) {
    return p.path == path && p.reason.find(words) != std::string::npos;
  });
}

TEST_CASE("Single-segment wildcards: *, ?, [ab], [!a], ranges", "[discovery]") {
  TempTree t;
  t.Files({"a.log", "b.log", "c.log", "ab.log", "app-1.log", "app-2.log", "app-x.log", "notes.txt"});
  CHECK(Found(t, {"*.log"}) ==
        Paths{"a.log", "ab.log", "app-1.log", "app-2.log", "app-x.log", "b.log", "c.log"});
  CHECK(Found(t, {"?.log"}) == Paths{"a.log", "b.log", "c.log"});
  CHECK(Found(t, {"[ab].log"}) == Paths{"a.log", "b.log"});
  CHECK(Found(t, {"[!a].log"}) == Paths{"b.log", "c.log"});
  CHECK(Found(t, {"[^a].log"}) == Paths{"b.log", "c.log"});
  CHECK(Found(t, {"app-[0-9].log"}) == Paths{"app-1.log", "app-2.log"});
  CHECK(Found(t, {"app-[!0-9].log"}) == Paths{"app-x.log"});
  CHECK(Found(t, {"[[:alpha:]].log"}) == Paths{"a.log", "b.log", "c.log"});
  CHECK(Found(t, {"notes.txt"}) == Paths{"notes.txt"});
  CHECK(Found(t, {"nothing*"}).empty());
  // Several patterns: the union, each file once.
  CHECK(Found(t, {"a*.log", "*b.log", "a.log"}) ==
        Paths{"a.log", "ab.log", "app-1.log", "app-2.log", "app-x.log", "b.log"});
}

TEST_CASE("Wildcards in directory segments", "[discovery]") {
  TempTree t;
  t.Files({"web1/access.log", "web2/access.log", "web2/error.log", "db/access.log", "web3/x/access.log"});
  CHECK(Found(t, {"web*/access.log"}) == Paths{"web1/access.log", "web2/access.log"});
  CHECK(Found(t, {"*/*.log"}) ==
        Paths{"db/access.log", "web1/access.log", "web2/access.log", "web2/error.log"});
  CHECK(Found(t, {"web?/*/access.log"}) == Paths{"web3/x/access.log"});
}

TEST_CASE("** matches zero, one and several directory levels, in the middle and twice", "[discovery]") {
  TempTree t;
  t.Files({"top.log", "a/one.log", "a/b/c/three.log", "a/b/two.txt", "app/direct.log", "x/app/mid.log",
           "x/y/z/app/deep.log", "x/y/app/sub/not.log", "k/x/m/x/n/twice.log", "x/only.log"});
  CHECK(Found(t, {"**/*.log"}) == Paths{"a/b/c/three.log", "a/one.log", "app/direct.log",
                                        "k/x/m/x/n/twice.log", "top.log", "x/app/mid.log", "x/only.log",
                                        "x/y/app/sub/not.log", "x/y/z/app/deep.log"});
  CHECK(Found(t, {"a/**/*.log"}) == Paths{"a/b/c/three.log", "a/one.log"});  // zero and three levels
  CHECK(Found(t, {"a/**/c/*.log"}) == Paths{"a/b/c/three.log"});
  CHECK(Found(t, {"**/app/*.log"}) == Paths{"app/direct.log", "x/app/mid.log", "x/y/z/app/deep.log"});
  CHECK(Found(t, {"x/**/app/*.log"}) == Paths{"x/app/mid.log", "x/y/z/app/deep.log"});
  CHECK(Found(t, {"**/x/**/*.log"}) == Paths{"k/x/m/x/n/twice.log", "x/app/mid.log", "x/only.log",
                                             "x/y/app/sub/not.log", "x/y/z/app/deep.log"});
  CHECK(Found(t, {"k/**/x/**/twice.log"}) == Paths{"k/x/m/x/n/twice.log"});
  CHECK(Found(t, {"**/**/top.log"}) == Paths{"top.log"});
  // A trailing ** means every file below.
  CHECK(Found(t, {"a/**"}) == Paths{"a/b/c/three.log", "a/b/two.txt", "a/one.log"});
}

TEST_CASE("Hidden names are matched only by segments that start with '.'", "[discovery]") {
  TempTree t;
  t.Files({"app.log", ".hidden.log", ".git/x.log", "d/.cache/y.log", "d/z.log"});
  CHECK(Found(t, {"*.log"}) == Paths{"app.log"});
  CHECK(Found(t, {"?hidden.log"}).empty());
  CHECK(Found(t, {".*.log"}) == Paths{".hidden.log"});
  CHECK(Found(t, {"*/*.log"}) == Paths{"d/z.log"});
  CHECK(Found(t, {"**/*.log"}) == Paths{"app.log", "d/z.log"});  // ** does not walk into .git or .cache
  CHECK(Found(t, {".*/*.log"}) == Paths{".git/x.log"});
  CHECK(Found(t, {"**/.cache/*.log"}) == Paths{"d/.cache/y.log"});
  CHECK(Found(t, {".git/x.log"}) == Paths{".git/x.log"});
}

TEST_CASE("Excludes by base name, by path, and with **", "[discovery]") {
  TempTree t;
  t.Files({"app.log", "debug.log", "a/app.log", "a/old/app.log", "b/old/c/app.log", "b/app.log", ".x.log"});
  CHECK(Found(t, {"**/*.log"}, {"debug*"}) ==
        Paths{"a/app.log", "a/old/app.log", "app.log", "b/app.log", "b/old/c/app.log"});
  CHECK(Found(t, {"**/*.log"}, {"app.log"}) == Paths{"debug.log"});
  CHECK(Found(t, {"**/*.log"}, {"a/*.log"}) ==
        Paths{"a/old/app.log", "app.log", "b/app.log", "b/old/c/app.log", "debug.log"});
  CHECK(Found(t, {"**/*.log"}, {"**/old/**"}) == Paths{"a/app.log", "app.log", "b/app.log", "debug.log"});
  CHECK(Found(t, {"**/*.log"}, {"*/old/*.log", "debug.log"}) ==
        Paths{"a/app.log", "app.log", "b/app.log", "b/old/c/app.log"});
  // Excludes do not apply the hidden-name rule: "*.log" also excludes ".x.log".
  CHECK(Found(t, {".*.log", "app.log"}, {"*.log"}).empty());
}

TEST_CASE("Compressed rotations are excluded unless exclude_compressed is false", "[discovery]") {
  TempTree t;
  t.Files({"app.log", "app.log.1", "app.log.2.gz", "app.log.3.bz2", "app.log.4.xz", "app.log.5.zst",
           "app.log.6.zip", "app.log.7.lz4", "app.log.8.GZ", "app.log.gzip"});
  const Paths plain = {"app.log", "app.log.1", "app.log.gzip"};
  CHECK(Found(t, {"app.log*"}) == plain);
  DiscoveryOptions o;
  o.include = {t / "app.log*"};
  o.exclude_compressed = false;
  auto d = Make(o);
  CHECK(Rel(t, d.Scan()) == Paths{"app.log", "app.log.1", "app.log.2.gz", "app.log.3.bz2", "app.log.4.xz",
                                  "app.log.5.zst", "app.log.6.zip", "app.log.7.lz4", "app.log.8.GZ",
                                  "app.log.gzip"});
  CHECK(d.Matches(t / "app.log.2.gz"));
  CHECK_FALSE(Make({t / "app.log*"}).Matches(t / "app.log.2.gz"));
}

TEST_CASE("A directory matched by the last segment is a problem, not a file", "[discovery]") {
  TempTree t;
  t.Files({"a.log", "dir.log/inner.log"});
  auto r = Make({t / "*.log"}).Scan();
  CHECK(Rel(t, r) == Paths{"a.log"});
  CHECK(HasProblem(r, t / "dir.log", "is a directory"));
  CHECK(r.problems.size() == 1);
  // Walked into by the same pattern's ** it is no problem.
  auto deep = Make({t / "**/*.log"}).Scan();
  CHECK(Rel(t, deep) == Paths{"a.log", "dir.log/inner.log"});
  CHECK(deep.problems.empty());
  // Excluded, it is not reported either.
  CHECK(Make({t / "*.log"}, {"dir.*"}).Scan().problems.empty());
}

TEST_CASE("A FIFO that matches is a problem", "[discovery]") {
  TempTree t;
  t.File("a.log");
  REQUIRE(::mkfifo((t / "pipe.log").c_str(), 0644) == 0);
  auto r = Make({t / "*.log"}).Scan();
  CHECK(Rel(t, r) == Paths{"a.log"});
  CHECK(HasProblem(r, t / "pipe.log", "FIFO"));
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].kind == ScanProblemKind::kNotRegular);
  auto literal = Make({t / "pipe.log"}).Scan();  // the same through a literal segment
  CHECK(literal.files.empty());
  CHECK(HasProblem(literal, t / "pipe.log", "FIFO"));
}

TEST_CASE("A symlink to a matched file is deduplicated; the first path in sorted order is kept",
          "[discovery]") {
  TempTree t;
  t.File("logs/b.log");
  t.Link("b.log", "logs/a.log");       // a.log -> b.log: a.log sorts first and is kept
  t.Link("../logs", "alias/current");  // a symlinked directory reaching the same files
  t.File("other/c.log");
  t.Link("../other/c.log", "logs/z.log");
  auto r = Make({t / "logs/*.log", t / "alias/*/*.log", t / "other/*.log"}).Scan();
  // b.log is reached as alias/current/a.log, alias/current/b.log, logs/a.log, logs/b.log; c.log as
  // alias/current/z.log, logs/z.log, other/c.log. The first of each in sorted order is kept.
  CHECK(Rel(t, r) == Paths{"alias/current/a.log", "alias/current/z.log"});
  REQUIRE(r.files.size() == 2);
  struct stat st;
  REQUIRE(::stat((t / "logs/b.log").c_str(), &st) == 0);
  CHECK(r.files[0].st.st_ino == st.st_ino);
  CHECK(r.problems.empty());
  CHECK(Found(t, {"logs/*.log"}) == Paths{"logs/a.log", "logs/z.log"});
  // A symlink matched by the last segment is followed; a dangling one is reported.
  t.Link("missing.log", "logs/dangling.log");
  auto d = Make({t / "logs/*.log"}).Scan();
  CHECK(HasProblem(d, t / "logs/dangling.log", "dangling"));
}

TEST_CASE("Symlink loops terminate and are reported", "[discovery]") {
  TempTree t;
  t.File("a/b/x.log");
  t.Link("..", "a/b/up");           // a/b/up -> a: a directory loop
  t.Link("../../..", "a/b/c/top");  // a/b/c/top -> the root of the tree
  t.Link("self.log", "a/self.log");
  t.Link("ping.log", "a/pong.log");
  t.Link("pong.log", "a/ping.log");
  auto r = Make({t / "**/*.log"}).Scan();
  CHECK(Rel(t, r) == Paths{"a/b/x.log"});
  CHECK(HasProblem(r, t / "a/self.log", "symlink loop"));
  CHECK(std::all_of(r.problems.begin(), r.problems.end(),
                    [](const ScanProblem& p) { return p.kind == ScanProblemKind::kBrokenLink; }));
  CHECK(HasProblem(r, t / "a/ping.log", "symlink loop"));
  CHECK(HasProblem(r, t / "a/b/up", "symlink loop"));
  auto dirs = Make({t / "**/*.log"}).Scan().directories;
  CHECK(dirs == std::vector<std::string>{t.root(), t / "a", t / "a/b", t / "a/b/c"});
  // A pattern that needs the loop to match still terminates and finds the file through it.
  CHECK(Found(t, {"a/*/*/b/x.log"}) == Paths{"a/b/up/b/x.log"});
}

TEST_CASE("An unreadable directory is reported", "[discovery]") {
  TempTree t;
  t.Files({"open/a.log", "closed/b.log"});
  REQUIRE(::chmod((t / "closed").c_str(), 0) == 0);
  testing::WithoutFileCapabilities as_user;  // root, too, is refused
  REQUIRE(as_user.active());
  auto r = Make({t / "*/*.log"}).Scan();
  CHECK(Rel(t, r) == Paths{"open/a.log"});
  CHECK(HasProblem(r, t / "closed", "permission denied"));
  CHECK(r.problems.at(0).kind == ScanProblemKind::kPermissionDenied);
  CHECK_FALSE(Contains(r.directories, t / "closed"));
  auto literal = Make({t / "closed/b.log"}).Scan();
  CHECK(literal.files.empty());
  CHECK(HasProblem(literal, t / "closed/b.log", "permission denied"));
}

TEST_CASE("Directories: every listed one, and the literal parents of patterns", "[discovery]") {
  TempTree t;
  t.Files({"a/x/1.log", "a/y/2.txt", "empty/.keep", "lit/app.log"});
  t.Dir("a/z");
  t.Dir("nothing-yet");
  auto r = Make({t / "a/*/*.log", t / "empty/*.log", t / "lit/app.log", t / "nothing-yet/app.log",
                 t / "nothing-yet/*.txt", t / "missing/deeper/*.log"})
               .Scan();
  CHECK(Rel(t, r) == Paths{"a/x/1.log", "lit/app.log"});
  // a is listed for "*", a/x, a/y, a/z for "*.log"; empty and nothing-yet are listed; lit is the literal
  // parent of app.log; the root of the tree is the deepest existing directory of missing/deeper.
  CHECK(r.directories == std::vector<std::string>{t.root(), t / "a", t / "a/x", t / "a/y", t / "a/z",
                                                  t / "empty", t / "lit", t / "nothing-yet"});
  CHECK(r.problems.empty());
  // Intermediate literal directories are followed, not watched.
  auto lit = Make({t / "a/x/1.log"}).Scan();
  CHECK(lit.directories == std::vector<std::string>{t / "a/x"});
  // A directory reached through two paths is listed once.
  t.Link("a", "b");
  auto twice = Make({t / "*/x/*.log"}).Scan();
  CHECK(Rel(t, twice) == Paths{"a/x/1.log"});
  // empty, lit and nothing-yet have no "x" yet: each is watched so that its x is seen when created.
  CHECK(twice.directories ==
        std::vector<std::string>{t.root(), t / "a/x", t / "empty", t / "lit", t / "nothing-yet"});
}

TEST_CASE("Matches() agrees with Scan()", "[discovery]") {
  TempTree t;
  t.Files({"app.log", "app.log.1", "app.log.1.gz", "debug.log", ".hidden.log", "a/app.log", "a/b/app.log",
           "a/b/c/web.log", "a/.git/app.log", "a/old/app.log", "svc/web/current.log", "svc/db/current.log",
           "svc/db/old/current.log", "x.txt", "a/[literal].log"});
  DiscoveryOptions o;
  o.include = {t / "**/*.log", t / "app.log*", t / "svc/*/current.log", t / "*.txt"};
  o.exclude = {"debug.*", t / "a/old/**", t / "svc/db/**/current.log"};
  auto d = Make(o);
  auto r = d.Scan();
  std::set<std::string> scanned;
  for (const auto& f : r.files) scanned.insert(f.path);
  CHECK(scanned.size() == 8);
  std::size_t checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(t.root())) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    INFO(path);
    CHECK(d.Matches(path) == (scanned.count(path) == 1));
    ++checked;
  }
  CHECK(checked == 15);
  // Paths that do not exist are judged all the same; no file system is involved.
  CHECK(d.Matches(t / "new/deep/dir/new.log"));
  CHECK(d.Matches(t.root() + "//new/./x.log"));
  CHECK_FALSE(d.Matches(t / "new/.dot/x.log"));
  CHECK_FALSE(d.Matches(t / "svc/db/a/current.log.gz"));
  CHECK_FALSE(d.Matches("relative/app.log"));
  CHECK_FALSE(d.Matches(""));
  CHECK_FALSE(d.Matches("/"));
}

TEST_CASE("Create() rejects bad patterns and names them", "[discovery]") {
  auto error = [](std::vector<std::string> include, std::vector<std::string> exclude = {}) {
    DiscoveryOptions o;
    o.include = std::move(include);
    o.exclude = std::move(exclude);
    auto d = Discovery::Create(std::move(o));
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code() == ErrorCode::kInvalidArgument);
    return d.error().message();
  };
  auto relative = error({"var/log/*.log"});
  CHECK(relative.find("\"var/log/*.log\"") != std::string::npos);
  CHECK(relative.find("absolute") != std::string::npos);
  CHECK(error({""}).find("empty") != std::string::npos);
  auto bracket = error({"/var/log/[ab.log"});
  CHECK(bracket.find("\"/var/log/[ab.log\"") != std::string::npos);
  CHECK(bracket.find("unbalanced '['") != std::string::npos);
  CHECK(error({"/var/log/[]"}).find("unbalanced") != std::string::npos);
  CHECK(error({"/var/[:alpha:/x"}).find("unbalanced") != std::string::npos);
  CHECK(error({"/var/log/[/]x"}).find("unbalanced") != std::string::npos);
  CHECK(error({"/"}).find("names no file") != std::string::npos);
  CHECK(error({"/var/../log"}).find("'..'") != std::string::npos);
  std::string long_pattern;
  for (int i = 0; i < 64; ++i) long_pattern += "/d";
  CHECK(error({long_pattern}).find("more than 63") != std::string::npos);
  CHECK(error({"/ok/*.log"}, {""}).find("exclude pattern \"\" is empty") != std::string::npos);
  CHECK(error({"/ok/*.log"}, {"old/*.log"}).find("base name") != std::string::npos);
  CHECK(error({"/ok/*.log"}, {"[x"}).find("unbalanced") != std::string::npos);
  // Every bad pattern is named at once.
  auto both = error({"a.log", "/ok.log", "/b/[x"});
  CHECK(both.find("\"a.log\"") != std::string::npos);
  CHECK(both.find("\"/b/[x\"") != std::string::npos);
  CHECK(both.find("/ok.log") == std::string::npos);
  // Well-formed patterns are accepted.
  DiscoveryOptions good;
  good.include = {"/var/log/[]ab]/*.log", "/var/log/[!]]x", "/var/log/[[:digit:]]*", "//var/./log/**"};
  good.exclude = {"*.tmp", "/var/log/**/old/*"};
  CHECK(Discovery::Create(good).ok());
  CHECK(Make(good).Matches("/var/log/a/b/c.log"));
}

TEST_CASE("10,000 files in one directory are scanned quickly", "[discovery]") {
  TempTree t;
  t.Dir("many");
  for (int i = 0; i < 10000; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "many/file-%05d.log", i);
    std::ofstream(t / name).put('x');
  }
  t.File("many/skip.txt");
  auto d = Make({t / "many/*.log"});
  auto first = d.Scan();  // warms the dentry cache
  auto start = std::chrono::steady_clock::now();
  auto r = d.Scan();
  auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  WARN("Scan() of 10,000 files in one directory took " << elapsed.count() << " ms");
  REQUIRE(r.files.size() == 10000);
  CHECK(r.files.front().path == t / "many/file-00000.log");
  CHECK(r.files.back().path == t / "many/file-09999.log");
  CHECK(std::is_sorted(r.files.begin(), r.files.end(),
                       [](const FoundFile& a, const FoundFile& b) { return a.path < b.path; }));
  CHECK(r.directories == std::vector<std::string>{t / "many"});
  CHECK(elapsed.count() < 2000);
  start = std::chrono::steady_clock::now();
  std::size_t matched = 0;
  for (const auto& f : r.files) matched += d.Matches(f.path) ? 1 : 0;
  elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  WARN("Matches() of the 10,000 paths took " << elapsed.count() << " ms");
  CHECK(matched == 10000);
}

}  // namespace
}  // namespace ferry
