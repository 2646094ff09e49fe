// Tests of SendReport (agent/ops/send_report): the exit status for each way a send ends, the summary's
// lines (all sent; refused records and where they went; records not sent and why; how far each input
// was sent), and the progress line: percent, bar, figures, time left, and what a narrow terminal drops.
#include "agent/ops/send_report.h"

#include <catch2/catch.hpp>

#include <string>

using namespace ferry;

namespace {

SendOutcome AllSent() {
  SendOutcome o;
  o.destination = "Kinesis stream 'web'";
  o.figures.records_read = 1000;
  o.figures.bytes_read = 203000;
  o.figures.records_acked = 1000;
  o.figures.bytes_acked = 203000;
  o.figures.elapsed_s = 1.24;
  o.inputs = {{"a.log", 100000, 100000, true}, {"b.log", 103000, 103000, true}};
  o.dead_letter_path = "./ferry-send-dead-letters.jsonl";
  o.max_retry_time = Duration(300000);
  return o;
}

}  // namespace

TEST_CASE("ferry send exits 0 only when every record was acknowledged or dropped", "[send]") {
  SendOutcome o = AllSent();
  CHECK(SendExitStatus(o) == 0);
  o.figures.records_acked = 990;
  o.figures.records_dropped = 10;
  CHECK(SendExitStatus(o) == 0);
  SECTION("refused records: 1") {
    o.figures.records_dropped = 5;
    o.figures.records_dead_lettered = 5;
    CHECK(SendExitStatus(o) == 1);
  }
  SECTION("records not sent: 1") {
    o.figures.records_dropped = 0;
    CHECK(SendExitStatus(o) == 1);
  }
  SECTION("retries ran out: 1") {
    o.gave_up = true;
    CHECK(SendExitStatus(o) == 1);
  }
  SECTION("an input that could not be read to its end: 1") {
    o.input_errors = {"b.log.gz: gzip data ends in the middle of a member"};
    CHECK(SendExitStatus(o) == 1);
  }
  SECTION("a stop signal: 128 + the signal, whatever else") {
    o.signal = 2;
    o.gave_up = true;
    CHECK(SendExitStatus(o) == 130);
    o.signal = 15;
    CHECK(SendExitStatus(o) == 143);
  }
}

TEST_CASE("ferry send's summary of a send that sent everything is one line", "[send]") {
  CHECK(FormatSendSummary(AllSent()) ==
        "ferry send: 1000 records (203.0 kB) read from 2 inputs; 1000 acknowledged by Kinesis stream 'web' "
        "in 1.2 s\n");
}

TEST_CASE("ferry send's summary says what was refused, where it went, and what was not sent", "[send]") {
  SendOutcome o = AllSent();
  o.figures.records_acked = 900;
  o.figures.records_dropped = 40;
  o.figures.records_dead_lettered = 20;
  o.dead_letters_to_stderr = 5;
  o.figures.bytes_acked = 190000;
  o.inputs[1].bytes_acked = 90000;
  o.signal = 2;
  o.errors = {{"ProvisionedThroughputExceededException", 3}};
  CHECK(FormatSendSummary(o) ==
        "ferry send: 1000 records (203.0 kB) read from 2 inputs; 900 acknowledged by Kinesis stream 'web', "
        "40 dropped by plugins in 1.2 s\n"
        "ferry send: 15 records refused for good, written to ./ferry-send-dead-letters.jsonl\n"
        "ferry send: 5 records refused for good, written to standard error "
        "(./ferry-send-dead-letters.jsonl could not be written)\n"
        "ferry send: 40 records not sent: interrupted by signal 2; endpoint errors: "
        "ProvisionedThroughputExceededException x3\n"
        "ferry send: b.log: sent up to byte 90000 of the 103000 read\n");
}

TEST_CASE("ferry send's summary counts a plugin's dead letters apart from its drops, and they exit 1",
          "[send]") {
  SendOutcome o = AllSent();
  o.figures.records_acked = 990;
  o.figures.records_dropped = 7;
  o.figures.records_failed_plugins = 3;
  CHECK(FormatSendSummary(o) ==
        "ferry send: 1000 records (203.0 kB) read from 2 inputs; 990 acknowledged by Kinesis stream 'web', "
        "7 dropped by plugins in 1.2 s\n"
        "ferry send: 3 records failed a plugin, written to ./ferry-send-dead-letters.jsonl\n");
  CHECK(SendExitStatus(o) == 1);
  o.figures.records_failed_plugins = 0;
  o.figures.records_dropped = 10;
  CHECK(SendExitStatus(o) == 0);  // drops are what the plugins were told to do
  o.figures.records_dropped = 7;
  o.figures.records_failed_plugins = 1;
  o.figures.records_acked = 990;
  o.figures.records_dead_lettered = 2;
  o.dead_letters_to_stderr = 1;
  CHECK(FormatSendSummary(o).find("ferry send: 2 records refused for good or failed a plugin, written to "
                                  "./ferry-send-dead-letters.jsonl\n"
                                  "ferry send: 1 record refused for good or failed a plugin, written to "
                                  "standard error") != std::string::npos);
}

TEST_CASE("ferry send's summary after retries ran out names --max-retry-time and unread inputs", "[send]") {
  SendOutcome o = AllSent();
  o.figures.records_read = 1;
  o.figures.bytes_read = 4;
  o.figures.records_acked = 0;
  o.inputs = {{"standard input", 0, 4, false}};
  o.gave_up = true;
  o.max_retry_time = Duration(1500);
  o.input_errors = {"standard input: read failed at byte 4: Input/output error (EIO)"};
  CHECK(FormatSendSummary(o) ==
        "ferry send: 1 record (4 B) read from 1 input; 0 acknowledged by Kinesis stream 'web' in 1.2 s\n"
        "ferry send: standard input: read failed at byte 4: Input/output error (EIO)\n"
        "ferry send: 1 record not sent: no acknowledgement for 1500ms (--max-retry-time)\n"
        "ferry send: standard input: sent up to byte 0 of the 4 read (not read to its end)\n");
}

TEST_CASE("ferry send's progress line: percent, bar, figures and time left", "[send]") {
  SendFigures f;
  f.records_read = 500000;
  f.bytes_read = 101'500'000;
  f.records_acked = 480000;
  f.bytes_acked = 97'440'000;
  f.input_bytes_read = 101'500'000;
  f.input_bytes_total = 203'000'000;
  f.sizes_known = true;
  f.elapsed_s = 4;
  const std::string at100 = FormatSendProgress(f, 100);
  CHECK(at100 ==
        " 50% [########---------] 500.0k rec 101.5 MB read, 480.0k rec 97.4 MB acked, 120.0k rec/s, 0:04 "
        "left");
  CHECK(at100.size() == 100);
  SECTION("a narrower terminal gets a shorter bar, then no bytes read, then no bar, then a cut line") {
    CHECK(FormatSendProgress(f, 96) ==
          " 50% [######-------] 500.0k rec 101.5 MB read, 480.0k rec 97.4 MB acked, 120.0k rec/s, 0:04 left");
    const std::string at80 = FormatSendProgress(f, 80);
    CHECK(at80 == " 50% [###---] 500.0k rec read, 480.0k rec 97.4 MB acked, 120.0k rec/s, 0:04 left");
    CHECK(at80.size() == 80);
    CHECK(FormatSendProgress(f, 70) ==
          " 50% 500.0k rec 101.5 MB read, 480.0k rec 97.4 MB acked, 120.0k rec/s,");
    CHECK(FormatSendProgress(f, 20) == " 50% 500.0k rec 101.");
  }
  SECTION("done: 100%, a full bar, no time left") {
    f.input_bytes_read = f.input_bytes_total;
    CHECK(FormatSendProgress(f, 90) ==
          "100% [##################] 500.0k rec 101.5 MB read, 480.0k rec 97.4 MB acked, 120.0k rec/s");
  }
  SECTION("standard input: no percent, no bar, no time left") {
    f.sizes_known = false;
    CHECK(FormatSendProgress(f, 100) == "500.0k rec 101.5 MB read, 480.0k rec 97.4 MB acked, 120.0k rec/s");
  }
}

TEST_CASE("ferry send writes figures as people read them", "[send]") {
  CHECK(HumanBytes(0) == "0 B");
  CHECK(HumanBytes(999) == "999 B");
  CHECK(HumanBytes(1000) == "1.0 kB");
  CHECK(HumanBytes(1'250'000) == "1.2 MB");
  CHECK(HumanBytes(3.5e9) == "3.5 GB");
  CHECK(HumanCount(999) == "999");
  CHECK(HumanCount(1234) == "1.2k");
  CHECK(HumanCount(1'234'567) == "1.23M");
  CHECK(HumanCount(2.5e9) == "2.50G");
}
