// Tests of RenderTopScreen (agent/ops/top_screen.h): exact screens for given sizes: the header, the flow
// table with the sorted column marked, the files most behind, cut lines, rows that do not fit counted,
// and the screen while the daemon is not reachable.
#include "agent/ops/top_screen.h"

#include <catch2/catch.hpp>

namespace ferry {
namespace {

using Lines = std::vector<std::string>;

TopView SampleView() {
  TopView view;
  view.version = "1.2.0";
  view.pid = 4321;
  view.uptime_seconds = 3725;
  view.region = "eu-west-1";
  view.rss_bytes = 45 * 1024 * 1024 + 300 * 1024;
  view.interval_seconds = 1.0;
  TopFlowRow web{"web", 12345.0, 2.5, 3 * 1024 * 1024, 1536, 4, 120, 0, 2};
  TopFlowRow db{"db", std::nullopt, std::nullopt, 0, std::nullopt, std::nullopt, 0, std::nullopt, 0};
  view.flows = {web, db};
  view.lagging_files = {{"web", "/var/log/nginx/access.log", 3 * 1024 * 1024 - 100},
                        {"web", "/var/log/nginx/error.log", 100}};
  return view;
}

TEST_CASE("RenderTopScreen: header, flows, files behind and keys, one line per row", "[top]") {
  TopView view = SampleView();
  TopScreenState state{"/var/lib/ferry/status.sock",   &view, "",
                       {TopSortKey::kReadRate, false}, false, std::chrono::seconds(1)};
  CHECK(RenderTopScreen(state, {100, 10}) ==
        Lines{
            "ferry 1.2.0  pid 4321  up 1h 2m  region eu-west-1  memory 45.3 MiB",
            "",
            "FLOW    [READ/S]    SENT/S      BEHIND       SPOOL         RETRIES          ERRORS",
            "web        12.3k       2.5     3.0 MiB     1.5 KiB        120 (+4)          2 (+0)",
            "db             -         -         0 B           -               0               0",
            "",
            "    BEHIND  FLOW    FILE",
            "   3.0 MiB  web     /var/log/nginx/access.log",
            "     100 B  web     /var/log/nginx/error.log",
            "sorted by read/s, largest first; every 1s; ? keys, q quit",
        });
}

TEST_CASE("RenderTopScreen: a narrow, short window cuts lines and counts what does not fit", "[top]") {
  TopView view = SampleView();
  view.flows.push_back(view.flows[1]);
  view.flows.back().name = "a-flow-with-a-much-too-long-name";
  TopScreenState state{"", &view, "", {TopSortKey::kName, true}, false, std::chrono::milliseconds(500)};
  CHECK(RenderTopScreen(state, {40, 6}) == Lines{
                                               "ferry 1.2.0  pid 4321  up 1h 2m  region",
                                               "",
                                               "[FLOW]                      READ/S    SE",
                                               "web                          12.3k",
                                               "\u2026 2 more flows",
                                               "sorted by name, Z to A; every 500ms; ? k",
                                           });
  // Room for the flows, the files' heading and one file (its path keeps its end) and the count of the rest.
  view.lagging_files.push_back({"db", "/x", 1});
  CHECK(RenderTopScreen(state, {54, 11}) == Lines{
                                                "ferry 1.2.0  pid 4321  up 1h 2m  region eu-west-1  mem",
                                                "",
                                                "[FLOW]                      READ/S    SENT/S      BEHI",
                                                "web                          12.3k       2.5     3.0 M",
                                                "db                               -         -         0",
                                                "a-flow-with-a-much-too-\u2026         -         -         0",
                                                "",
                                                "    BEHIND  FLOW                      FILE",
                                                "   3.0 MiB  web                       \u2026ginx/access.log",
                                                "\u2026 2 more files behind",
                                                "sorted by name, Z to A; every 500ms; ? keys, q quit",
                                            });
}

TEST_CASE("RenderTopScreen: not reachable, no flows, no file behind, the keys line", "[top]") {
  TopScreenState state{"/run/ferry/status.sock",     nullptr, "/run/ferry/status.sock: connection refused",
                       {TopSortKey::kErrors, false}, true,    std::chrono::seconds(1)};
  CHECK(RenderTopScreen(state, {120, 4}) ==
        Lines{
            "ferry top  /run/ferry/status.sock",
            "not reachable: /run/ferry/status.sock: connection refused; trying again every 1s",
            "",
            "keys: q quit  s, 1-5, left/right: sort column  r reverse  ? hide keys",
        });
  TopView empty;
  empty.version = "1.2.0";
  empty.pid = 7;
  empty.uptime_seconds = 9.9;
  state.view = &empty;
  state.unreachable.clear();
  state.help = false;
  CHECK(RenderTopScreen(state, {120, 7}) == Lines{
                                                "ferry 1.2.0  pid 7  up 9s",
                                                "",
                                                "FLOW      READ/S    SENT/S      BEHIND       SPOOL         "
                                                "RETRIES        [ERRORS]",
                                                "no flows",
                                                "",
                                                "no file is behind",
                                                "sorted by errors, largest first; every 1s; ? keys, q quit",
                                            });
  CHECK(RenderTopScreen(state, {120, 0}).empty());
  CHECK(RenderTopScreen(state, {10, 1}) == Lines{"ferry 1.2."});
}

TEST_CASE("RenderTopScreen: control characters and bytes that are not UTF-8 are shown as '?'", "[top]") {
  TopView view = SampleView();
  view.flows[0].name = "w\x1b[2Jb";
  // BEL, a byte that starts no UTF-8 sequence, C1 CSI (U+009B) and a lone continuation byte; then an é.
  view.lagging_files = {{"w\x1b[2Jb", "/tmp/\x07x\xff\xc2\x9b\x9b\xc3\xa9.log", 5}};
  TopScreenState state{"", &view, "", {}, false, std::chrono::seconds(1)};
  Lines lines = RenderTopScreen(state, {80, 9});
  REQUIRE(lines.size() == 9);
  CHECK(lines[3].starts_with("w?[2Jb "));
  CHECK(lines[7] == "       5 B  w?[2Jb  /tmp/?x????\u00e9.log");
  for (const auto& line : lines) CHECK(line.find('\x1b') == std::string::npos);
}

}  // namespace
}  // namespace ferry
