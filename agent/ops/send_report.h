// SendReport: what `ferry send` tells its user, as text: the progress line drawn on a terminal, the summary
// line at the end, and the exit status that goes with it. Pure functions of the figures, so the words and
// the numbers are tested without a terminal or an endpoint.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/core/units.h"

namespace ferry {

// How far a send has come, as the session measures it.
struct SendFigures {
  std::uint64_t records_read = 0;     // framed from the inputs, handed to the pipeline
  std::uint64_t bytes_read = 0;       // decompressed
  std::uint64_t records_acked = 0;    // stored by the endpoint (user records)
  std::uint64_t bytes_acked = 0;      // input bytes behind every record done with (acknowledged, dropped
                                      // or dead-lettered), decompressed
  std::uint64_t records_dropped = 0;  // dropped by the flow's plugins, as their options say
  std::uint64_t records_dead_lettered = 0;   // refused for good by the endpoint
  std::uint64_t records_failed_plugins = 0;  // failed a plugin, or too long after them: dead letters
  std::uint64_t input_bytes_read = 0;        // as stored (compressed inputs: compressed bytes)
  std::uint64_t input_bytes_total = 0;       // the inputs' sizes, when every one is a regular file
  bool sizes_known = false;
  double elapsed_s = 0;

  // Records read that are neither acknowledged, dropped nor dead-lettered (by the endpoint or a plugin).
  std::uint64_t records_unsent() const;
};

// One input's end state, for the summary of a send that did not send everything.
struct SendInputState {
  std::string name;
  std::uint64_t bytes_acked = 0;  // every byte before this offset (decompressed) is done with
  std::uint64_t bytes_read = 0;   // decompressed
  bool read_to_end = false;
};

struct SendOutcome {
  SendFigures figures;
  std::string destination;  // "Kinesis stream 'web'"
  int signal = 0;           // the stop signal that interrupted the send; 0: none
  bool gave_up = false;     // --max-retry-time passed with records still waiting
  Duration max_retry_time{0};
  std::vector<std::string> input_errors;  // "app.log.gz: gzip data ends in the middle of a member"
  std::vector<SendInputState> inputs;
  std::string dead_letter_path;                 // where refused records went
  std::uint64_t dead_letters_to_stderr = 0;     // refused records written to standard error instead
  std::map<std::string, std::uint64_t> errors;  // what the endpoint answered, by code
};

// 0: every record acknowledged (or dropped by a plugin); 128 + signal after a stop signal (130 for
// Ctrl-C); 1: refused records, records not sent, or an input that could not be read to its end.
int SendExitStatus(const SendOutcome& outcome);

// "ferry send: 1000 records (203.0 kB) read from 2 inputs; 1000 acknowledged by Kinesis stream 'web' in
// 1.2 s", then what was not sent, each on a line of its own: refused records and where they are, records
// not sent and why, and for each input not wholly sent the byte its acknowledged part ends at.
std::string FormatSendSummary(const SendOutcome& outcome);

// The progress line, at most width columns: percent and a bar for inputs of known size, records and bytes
// read and acknowledged, the rate, and the time left. A narrower terminal loses the bytes read first, then
// the bar, then the line's end.
std::string FormatSendProgress(const SendFigures& figures, std::size_t width);

// 1234 -> "1.2 kB", 5 -> "5 B" (SI units, as rates are read).
std::string HumanBytes(double bytes);
// 1234567 -> "1.23M", 999 -> "999".
std::string HumanCount(double count);

}  // namespace ferry
