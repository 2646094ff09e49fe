// Tests of the `external` plugin (plugins/external/): the example plugin built against the public header
// loaded through the registry as the config does, each verdict, options refused by the plugin, and every
// load refused with its message: a missing file, a file that is not a shared object, no entry symbol,
// another ABI version, a file or folder others may write (made in a folder under the build dir, whose
// modes the test sets). A second plugin gives answers the ABI does not allow, a slow one, and a whole
// batch failed; the loop keeps running while a plugin works.
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "plugin_harness.h"

namespace ferry::plugins {
namespace {

namespace fs = std::filesystem;

const std::string kPluginDir = FERRY_TEST_PLUGIN_DIR;
const std::string kExample = kPluginDir + "/libferry_example_filter.so";
const std::string kMisbehaving = kPluginDir + "/libferry_misbehaving_plugin.so";

constexpr Verdict K = Verdict::kKeep;
constexpr Verdict R = Verdict::kReplace;
constexpr Verdict D = Verdict::kDrop;
constexpr Verdict F = Verdict::kFail;

std::string Entry(const std::string& path, const std::string& options = "") {
  return "{ path: '" + path + "'" + (options.empty() ? "" : ", options: " + options) + " }";
}

// A folder under the build dir (its ancestors are root's or ours and not group-writable; /tmp's own mode
// would be part of what is checked otherwise), removed at the end.
class ModeDir {
 public:
  ModeDir() {
    std::string templ = std::string(FERRY_BUILD_DIR) + "/external-plugin-test-XXXXXX";
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
    REQUIRE(::chmod(path_.c_str(), 0755) == 0);
  }
  ~ModeDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ModeDir(const ModeDir&) = delete;
  ModeDir& operator=(const ModeDir&) = delete;

  const std::string& path() const { return path_; }
  // A copy of the example in folder `sub` (made 0755 if new) with the given mode.
  std::string Copy(const std::string& sub, mode_t mode) {
    const std::string dir = path_ + "/" + sub;
    fs::create_directories(dir);
    const std::string to = dir + "/libexample.so";
    fs::copy_file(kExample, to, fs::copy_options::overwrite_existing);
    REQUIRE(::chmod(to.c_str(), mode) == 0);
    return to;
  }

 private:
  std::string path_;
};

// How many loaded objects' names end with name.
int Mappings(const std::string& name) {
  struct Search {
    std::string suffix;
    int count = 0;
  } search{"/" + name};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        if (info->dlpi_name != nullptr && std::string_view(info->dlpi_name).ends_with(s->suffix)) ++s->count;
        return 0;
      },
      &search);
  return search.count;
}

std::vector<Verdict> Verdicts(const std::vector<PluginOutcome>& out) {
  std::vector<Verdict> v;
  for (const auto& o : out) v.push_back(o.verdict);
  return v;
}

TEST_CASE("the example plugin keeps, replaces, drops and fails records as its options say") {
  PluginHarness h("external",
                  Entry(kExample, "{ drop_containing: health, fail_containing: BOOM, uppercase: true }"));
  REQUIRE(h.ok());
  auto out = h.Run({"hello world", "GET /health", "BOOM went the disk", "", "mixed Case 42"});
  CHECK(Verdicts(out) == std::vector<Verdict>{R, D, F, R, R});
  CHECK(out[0].text == "HELLO WORLD");
  CHECK(out[2].reason == "contains BOOM");
  CHECK(out[3].text.empty());
  CHECK(out[4].text == "MIXED CASE 42");
  // A second batch: the plugin reuses its buffer; the first batch's bytes were copied.
  auto again = h.Run({"second", "BOOM"});
  CHECK(Verdicts(again) == std::vector<Verdict>{R, F});
  CHECK(again[0].text == "SECOND");
  CHECK(out[0].text == "HELLO WORLD");

  PluginHarness keep("external", Entry(kExample, "{ drop_containing: x }"));
  REQUIRE(keep.ok());
  CHECK(Verdicts(keep.Run({"a", "x", "b"})) == std::vector<Verdict>{K, D, K});
  PluginHarness none("external", Entry(kExample));
  REQUIRE(none.ok());
  CHECK(Verdicts(none.Run({"anything"})) == std::vector<Verdict>{K});
}

TEST_CASE("two instances of one library work side by side, and one outlives the other") {
  auto first = std::make_unique<PluginHarness>("external", Entry(kExample, "{ uppercase: true }"));
  PluginHarness second("external", Entry(kExample, "{ drop_containing: a }"));
  REQUIRE(first->ok());
  REQUIRE(second.ok());
  CHECK(first->One("abc") == "ABC");
  CHECK(second.One("abc") == "(dropped)");
  // dlopen counts references: the library is mapped once however many instances use it.
  CHECK(Mappings("libferry_example_filter.so") == 1);
  first.reset();
  CHECK(second.One("abc") == "(dropped)");
  CHECK(second.One("xyz") == "xyz");
}

TEST_CASE("ferry check shows the options as the plugin gets them, strings quoted") {
  PluginHarness h("external", Entry(kExample, "{ drop_containing: '5', uppercase: true, n: [1, x, ~] }"));
  // The example refuses n; the options are parsed before it is asked.
  YAML::Emitter out;
  h.spec().kind->Emit(out, h.spec());
  CHECK(std::string(out.c_str()) ==
        "path: " + kExample +
            "\noptions:\n  drop_containing: \"5\"\n  uppercase: true\n  n:\n    - 1\n"
            "    - x\n    - ~\non_error: pass");
}

TEST_CASE("options the plugin refuses, and options that are not a map, are errors") {
  PluginHarness unknown("external", Entry(kExample, "{ colour: red }"));
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.all_errors() == "plugin example_filter (" + kExample +
                                    ") refused its options: unknown option 'colour' (known: drop_containing, "
                                    "fail_containing, uppercase)\n");
  // Quoted, true is a string: the plugin sees "true" and refuses it.
  PluginHarness quoted("external", Entry(kExample, "{ uppercase: 'true' }"));
  REQUIRE_FALSE(quoted.ok());
  CHECK_THAT(quoted.all_errors(), Catch::Contains("refused its options: uppercase must be true or false"));

  PluginHarness list("external", Entry(kExample, "[a, b]"));
  CHECK_THAT(list.all_errors(),
             Catch::Matches("ferry.yaml:1:\\d+: flows\\[0\\]\\.plugins\\[0\\]\\.external\\.options: "
                            "expected a mapping of the plugin's options \\(it gets them as "
                            "a JSON object\\)\n"));
  PluginHarness relative("external", "{ path: lib/x.so }");
  CHECK(relative.all_errors() ==
        "ferry.yaml:1:9: flows[0].plugins[0].external.path: must be an absolute path\n");
  PluginHarness missing("external", "{ options: {} }");
  CHECK_THAT(missing.all_errors(),
             Catch::Contains("flows[0].plugins[0].external.path: missing required key"));
}

TEST_CASE(
    "a plugin for another ABI, a library without the entry, and a file that is no library are refused") {
  PluginHarness abi2("external", Entry(kPluginDir + "/libferry_example_filter_abi2.so"));
  REQUIRE_FALSE(abi2.ok());
  CHECK(abi2.all_errors() ==
        kPluginDir +
            "/libferry_example_filter_abi2.so was built for plugin ABI 2; this ferry loads "
            "ABI 1 (rebuild it against this ferry's ferry/plugin.h)\n");

  PluginHarness no_entry("external", Entry(kPluginDir + "/libferry_example_filter_no_entry.so"));
  REQUIRE_FALSE(no_entry.ok());
  CHECK(no_entry.all_errors() == kPluginDir +
                                     "/libferry_example_filter_no_entry.so is not a ferry plugin: it has no "
                                     "symbol ferry_plugin_entry\n");

  ModeDir dir;
  const std::string text = dir.path() + "/notes.so";
  std::ofstream(text)
      << "not an ELF file, but long enough to have a header of sorts........................\n";
  REQUIRE(::chmod(text.c_str(), 0644) == 0);
  PluginHarness not_elf("external", Entry(text));
  REQUIRE_FALSE(not_elf.ok());
  // The loader's words, without the path it repeats.
  CHECK_THAT(not_elf.all_errors(), Catch::Matches("cannot load " + text + ": [^/]*ELF[^/]*\n"));

  PluginHarness absent("external", Entry(dir.path() + "/nothing.so"));
  CHECK(absent.all_errors() ==
        "cannot load the plugin: " + dir.path() + "/nothing.so: No such file or directory (ENOENT)\n");

  PluginHarness folder("external", Entry(dir.path()));
  CHECK(folder.all_errors() == "cannot load the plugin: " + dir.path() + " is not a regular file\n");
}

TEST_CASE("a plugin file or folder others may write is refused; root's sticky folders are not") {
  ModeDir dir;
  const std::string good = dir.Copy("ok", 0755);
  PluginHarness ok("external", Entry(good));
  CHECK(ok.all_errors().empty());

  const std::string group_file = dir.Copy("gw-file", 0775);
  PluginHarness gw_file("external", Entry(group_file));
  CHECK(gw_file.all_errors() ==
        "cannot load the plugin: " + group_file +
            " is writable by its group (mode 0775); a plugin must be changeable by root "
            "or ferry's user only\n");
  const std::string other_file = dir.Copy("ow-file", 0757);
  PluginHarness ow_file("external", Entry(other_file));
  CHECK_THAT(ow_file.all_errors(), Catch::Contains("is writable by anyone (mode 0757)"));

  const std::string in_group_folder = dir.Copy("gw-folder/lib", 0755);
  REQUIRE(::chmod((dir.path() + "/gw-folder").c_str(), 0775) == 0);
  PluginHarness gw_folder("external", Entry(in_group_folder));
  CHECK(gw_folder.all_errors() == "cannot load the plugin: " + in_group_folder + ": its folder " +
                                      dir.path() +
                                      "/gw-folder is writable by its group (mode 0775); a plugin and every "
                                      "folder above it must be changeable by root or ferry's user only\n");

  // The real path is what counts: a link from a trusted folder to a file in an untrusted one is refused.
  const std::string link = dir.path() + "/ok/link.so";
  REQUIRE(::symlink(in_group_folder.c_str(), link.c_str()) == 0);
  PluginHarness linked("external", Entry(link));
  CHECK_THAT(linked.all_errors(), Catch::StartsWith("cannot load the plugin: " + link + " (that is " +
                                                    in_group_folder + "): its folder"));

  const std::string in_sticky = dir.Copy("sticky/lib", 0755);
  REQUIRE(::chmod((dir.path() + "/sticky").c_str(), 01777) == 0);
  PluginHarness sticky("external", Entry(in_sticky));
  if (::geteuid() == 0) {
    CHECK(sticky.all_errors().empty());  // root owns it: like /tmp
    const std::string theirs = dir.Copy("theirs", 0755);
    REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
    PluginHarness other_owner("external", Entry(theirs));
    CHECK_THAT(other_owner.all_errors(),
               Catch::Contains(theirs + " is owned by user 65534, not root or ferry's user"));
  } else {
    CHECK_THAT(sticky.all_errors(), Catch::Contains("/sticky is writable by anyone (mode 1777)"));
  }
}

TEST_CASE("answers the ABI does not allow fail their records; a failed batch fails every record") {
  PluginHarness h("external", Entry(kMisbehaving));
  REQUIRE(h.ok());
  auto out = h.Run({"fine", "unknown", "null", "none", "empty", "no-reason", "context", "huge"},
                   RecordOrigin{"/var/log/app.log", 1'700'000'000'123});
  CHECK(Verdicts(out) == std::vector<Verdict>{K, F, F, F, R, F, R, F});
  CHECK(out[1].reason == "the plugin gave the record an unknown verdict (99)");
  CHECK(out[2].reason == "the plugin replaced the record with 5 bytes at a null pointer");
  CHECK(out[3].reason == "the plugin gave the record no verdict");
  CHECK(out[4].text.empty());
  CHECK(out[5].reason == "the plugin failed the record without a reason");
  CHECK(out[6].text == "/var/log/app.log|1700000000123");
  CHECK(out[7].reason ==
        "the plugin replaced the record with " + std::to_string(SIZE_MAX) + " bytes, more than 64 MiB");

  auto failed = h.Run({"a", "batch-error", "b"});
  CHECK(Verdicts(failed) == std::vector<Verdict>{F, F, F});
  for (const auto& o : failed) CHECK(o.reason == "the batch had batch-error");
}

TEST_CASE("a slow plugin works off the loop, and Close waits for the call under way") {
  PluginHarness h("external", Entry(kMisbehaving));
  REQUIRE(h.ok());
  // A 10 ms timer fires while process() sleeps 300 ms on the pool.
  uv_timer_t timer;
  uv_timer_init(h.loop(), &timer);
  struct Ticks {
    int fired = 0;
    bool batch_done = false;
  } ticks;
  timer.data = &ticks;
  uv_timer_start(
      &timer, [](uv_timer_t* t) { static_cast<Ticks*>(t->data)->fired++; }, 10, 10);

  BatchRef batch(new Batch(1, 0, nullptr, 4096, nullptr));
  batch->records().push_back({batch->arena().Copy("sleep"), 6});
  int fired_when_done = -1;
  PluginBatch work(batch, [&](PluginBatch&) {
    ticks.batch_done = true;
    fired_when_done = ticks.fired;
  });
  h.plugin().Process(work);
  bool closed = false;
  bool done_before_close = false;
  h.plugin().Close([&] {
    closed = true;
    done_before_close = ticks.batch_done;
  });
  CHECK_FALSE(closed);
  while (!closed) uv_run(h.loop(), UV_RUN_ONCE);
  CHECK(done_before_close);
  CHECK(work.verdict(0) == K);
  CHECK(fired_when_done >= 5);  // the loop ran on: 300 ms of 10 ms ticks, with room for a loaded machine
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(h.loop(), UV_RUN_DEFAULT);
}

}  // namespace
}  // namespace ferry::plugins
