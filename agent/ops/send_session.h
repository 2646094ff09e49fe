// SendSession: `ferry send` on one libuv loop: the AWS look-ups (region, credentials), then one flow whose
// source reads the inputs once (pipeline/flow_builder.h BuildStreamFlow), the same framing, plugins and
// output as `ferry run`. No state_dir: no lock, no status socket, no checkpoints, no spool, so it runs
// beside a daemon. Ends when:
// - every input is read: the flow drains (what is held is sent at once) and the session waits for the
//   answers, for at most max_retry_time;
// - no record has been acknowledged for max_retry_time while records wait: what is left is given up;
// - SIGINT or SIGTERM: reading stops and what was read is sent, for at most shutdown_timeout (also when
//   the input had ended and its answers were being awaited); then, or at a second signal, the summary is
//   printed and the process ends at once (std::_Exit) if the flow has not drained by itself.
// A progress line is redrawn on progress_fd every 200 ms when asked for. Construct, Run() once, destroy;
// all on one thread.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/aws/aws_access.h"
#include "agent/checkpoint/ack_tracker.h"
#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/core/corrected_clock.h"
#include "agent/core/environment.h"
#include "agent/core/memory_budget.h"
#include "agent/delivery/dead_letter_writer.h"
#include "agent/ops/send_report.h"
#include "agent/pipeline/flow.h"
#include "agent/source/stream_source.h"

namespace ferry {

struct SendPlan {
  std::vector<StreamInput> inputs;  // opened; the session owns them
  std::string dead_letter_path;     // refused records go here (created at the first), else to stderr
  Duration max_retry_time{300000};
  bool progress = false;  // draw the progress line on progress_fd
  int progress_fd = 2;
  std::size_t progress_width = 80;  // columns of the terminal
};

class SendSession {
 public:
  // config holds exactly one flow: the one to send through (cli/send_args.h makes it).
  SendSession(config::Config config, Environment env, std::shared_ptr<spdlog::logger> log, SendPlan plan);
  ~SendSession();
  SendSession(const SendSession&) = delete;
  SendSession& operator=(const SendSession&) = delete;

  // Runs the loop until the send has ended, and says how it went. An error: it could not start (no region,
  // no credentials, a config the output refuses); kInvalidArgument for what the user must change.
  Result<SendOutcome> Run();

 private:
  void OnResolved(Status resolved);
  Status BuildFlow();
  void OnInputEnd();
  void OnTick();
  void OnSignal(int signum);
  // Prints the summary as things stand and ends the process (std::_Exit): nothing more is waited for.
  [[noreturn]] void StopNow(int signum);
  void Drain(Duration timeout);
  void OnDrained();
  void CloseAll();
  void Fail(Status failure);
  SendFigures Figures() const;
  SendOutcome Outcome() const;
  void DrawProgress(bool last);

  config::Config config_;
  Environment env_;
  std::shared_ptr<spdlog::logger> log_;
  SendPlan plan_;
  uv_loop_t loop_{};
  Status loop_ready_;
  SystemClock system_clock_;
  CorrectedClock clock_{system_clock_};
  MemoryBudget budget_;
  AckTracker acks_;
  std::unique_ptr<aws::AwsAccess> aws_;
  std::unique_ptr<Flow> flow_;
  StreamSource* source_ = nullptr;            // the flow's
  DeadLetterWriter* dead_letters_ = nullptr;  // the flow's output's
  std::string destination_;
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_timer_t tick_{};
  uv_timer_t stop_timer_{};  // after a signal once the input has ended: shutdown_timeout
  std::uint64_t started_at_ = 0;
  std::uint64_t last_progress_at_ = 0;  // loop ms when something was last done with
  std::uint64_t done_mark_ = ~std::uint64_t{0};
  int signal_ = 0;
  bool draining_ = false;
  bool gave_up_ = false;
  bool closing_ = false;
  bool progress_drawn_ = false;
  bool sizes_known_ = false;  // every input is a regular file
  Status failure_ = Status::Ok();
  std::optional<SendOutcome> outcome_;  // taken once the flow has drained
};

}  // namespace ferry
