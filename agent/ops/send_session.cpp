// SendSession: the loop of `ferry send`, its end conditions, and its figures.
#include "agent/ops/send_session.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>

#include <fmt/format.h>

#include "agent/core/event_loop.h"
#include "agent/core/uv_handle.h"
#include "agent/pipeline/flow_builder.h"

namespace ferry {
namespace {

constexpr std::uint64_t kTickMs = 200;

void WriteText(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::uint64_t CounterOf(const std::vector<NamedCounter>& counters, std::string_view name) {
  for (const auto& [key, value] : counters) {
    if (key == name) return value;
  }
  return 0;
}

}  // namespace

SendSession::SendSession(config::Config config, Environment env, std::shared_ptr<spdlog::logger> log,
                         SendPlan plan)
    : config_(std::move(config)),
      env_(std::move(env)),
      log_(std::move(log)),
      plan_(std::move(plan)),
      budget_(config_.memory_limit) {
  loop_ready_ = InitLoop(&loop_);
  const config::FlowOptions& flow = config_.flows.front();
  destination_ = flow.kinesis ? fmt::format("Kinesis stream '{}'", flow.kinesis->stream)
                              : fmt::format("Firehose delivery stream '{}'", flow.firehose->delivery_stream);
}

SendSession::~SendSession() {
  flow_.reset();
  aws_.reset();
  // Inputs the flow never took (start-up failed before it was built).
  for (auto& in : plan_.inputs) {
    if (in.fd >= 0) ::close(in.fd);
  }
  if (!loop_ready_) return;
  if (std::string open = CloseLoop(&loop_); !open.empty())
    log_->error("bug: the event loop ends with {}", open);
}

Result<SendOutcome> SendSession::Run() {
  if (!loop_ready_) return loop_ready_.error();
  for (uv_signal_t* sig : {&sigint_, &sigterm_}) {
    uv_signal_init(&loop_, sig);
    sig->data = this;
    uv_signal_start(
        sig, [](uv_signal_t* h, int signum) { static_cast<SendSession*>(h->data)->OnSignal(signum); },
        sig == &sigint_ ? SIGINT : SIGTERM);
  }
  for (uv_timer_t* timer : {&tick_, &stop_timer_}) {
    uv_timer_init(&loop_, timer);
    timer->data = this;
  }
  started_at_ = uv_now(&loop_);
  const bool kinesis = config_.flows.front().kinesis.has_value();
  aws_ = std::make_unique<aws::AwsAccess>(&loop_, config_.aws, env_, clock_, *log_);
  aws_->Resolve(kinesis, !kinesis, [this](Status resolved) { OnResolved(std::move(resolved)); });
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (!failure_) return failure_.error();
  if (!outcome_) outcome_ = Outcome();  // stopped before the flow was built
  return std::move(*outcome_);
}

void SendSession::OnResolved(Status resolved) {
  if (!resolved) return Fail(std::move(resolved));
  log_->info("{}", aws_->Describe());
  if (Status built = BuildFlow(); !built) return Fail(std::move(built));
  started_at_ = uv_now(&loop_);
  last_progress_at_ = started_at_;
  uv_timer_start(
      &tick_, [](uv_timer_t* t) { static_cast<SendSession*>(t->data)->OnTick(); }, kTickMs, kTickMs);
  flow_->Start();
  if (plan_.progress) DrawProgress(false);
}

Status SendSession::BuildFlow() {
  const config::FlowOptions& options = config_.flows.front();
  BuildContext build{&loop_, config_, env_.hostname(), *log_, clock_, &budget_};
  sizes_known_ =
      std::all_of(plan_.inputs.begin(), plan_.inputs.end(), [](const StreamInput& in) { return in.regular; });
  StreamFlowSpec spec;
  spec.inputs = std::move(plan_.inputs);
  plan_.inputs.clear();
  spec.dead_letter_path = plan_.dead_letter_path;
  spec.dead_letter_fallback_fd = STDERR_FILENO;
  spec.on_source = [this](StreamSource& source) {
    source_ = &source;
    source.set_on_end([this] { OnInputEnd(); });
  };
  auto parts = BuildStreamFlow(options, build, config_.memory_limit, std::move(spec));
  if (!parts) return parts.error();
  dead_letters_ = parts->keep.dead_letters.get();
  const aws::ServiceEndpoint& endpoint =
      parts->output.service == "kinesis" ? aws_->kinesis() : aws_->firehose();
  FlowContext ctx{&loop_, *log_, aws_->http(), acks_, clock_};
  flow_ = std::make_unique<Flow>(ctx, std::move(*parts), endpoint, aws_->credentials());
  return Status::Ok();
}

void SendSession::OnInputEnd() {
  if (draining_) return;
  // What the packers hold goes at once; the answers are waited for, up to max_retry_time.
  Drain(plan_.max_retry_time);
}

void SendSession::OnTick() {
  if (!flow_ || closing_) return;
  const SendFigures f = Figures();
  const std::uint64_t done = f.bytes_acked + f.records_acked + f.records_dropped + f.records_dead_lettered +
                             f.records_failed_plugins;
  const std::uint64_t now = uv_now(&loop_);
  if (done != done_mark_) {
    done_mark_ = done;
    last_progress_at_ = now;
  }
  const bool waiting = f.records_unsent() > 0;
  if (!draining_ && waiting &&
      now - last_progress_at_ >= static_cast<std::uint64_t>(plan_.max_retry_time.count())) {
    log_->error("no record acknowledged for {} (--max-retry-time); giving up on what is left",
                FormatDuration(plan_.max_retry_time));
    gave_up_ = true;
    Drain(Duration(0));
  }
  if (plan_.progress) DrawProgress(false);
}

void SendSession::OnSignal(int signum) {
  // A second signal: stop at once.
  if (signal_ != 0 || closing_) return StopNow(signal_ != 0 ? signal_ : signum);
  signal_ = signum;
  if (!flow_) {
    log_->info("signal {}: stopping before sending began", signum);
    CloseAll();
    return;
  }
  log_->warn("signal {}: stopping; sending what was read (for at most {}); again to stop at once", signum,
             FormatDuration(config_.shutdown_timeout));
  if (!draining_) return Drain(config_.shutdown_timeout);
  // The input has ended and its answers are awaited for up to --max-retry-time: the signal cuts that wait
  // to shutdown_timeout.
  uv_timer_start(
      &stop_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<SendSession*>(t->data);
        self->StopNow(self->signal_);
      },
      static_cast<std::uint64_t>(std::max<Duration::rep>(config_.shutdown_timeout.count(), 0)), 0);
}

void SendSession::StopNow(int signum) {
  if (progress_drawn_) WriteText(plan_.progress_fd, "\n");
  SendOutcome now = Outcome();
  now.signal = signum;
  WriteText(STDERR_FILENO, FormatSendSummary(now));
  std::_Exit(SendExitStatus(now));
}

void SendSession::Drain(Duration timeout) {
  draining_ = true;
  flow_->Drain(timeout, [this](std::size_t) {
    // The answers were waited for as long as allowed: what is still unsent was given up.
    if (signal_ == 0 && Figures().records_unsent() > 0) gave_up_ = true;
    OnDrained();
  });
}

void SendSession::OnDrained() {
  if (plan_.progress) DrawProgress(true);
  outcome_ = Outcome();
  CloseAll();
}

void SendSession::Fail(Status failure) {
  failure_ = std::move(failure);
  CloseAll();
}

void SendSession::CloseAll() {
  if (closing_) return;
  closing_ = true;
  auto rest = [this] {
    if (flow_) flow_->Close([] {});
    for (uv_signal_t* sig : {&sigint_, &sigterm_}) CloseHandle(sig);
    CloseHandle(&tick_);
    CloseHandle(&stop_timer_);
  };
  // The HTTP client first: aborting its transfers settles every request callback before the flow closes.
  if (aws_) {
    aws_->Close(rest);
  } else {
    rest();
  }
}

SendFigures SendSession::Figures() const {
  SendFigures f;
  f.elapsed_s = static_cast<double>(uv_now(&loop_) - started_at_) / 1000.0;
  if (!flow_ || source_ == nullptr) return f;
  const StreamCounters& read = source_->counters();
  f.records_read = read.records;
  f.bytes_read = read.bytes;
  f.input_bytes_read = read.input_bytes;
  const std::vector<NamedCounter> counters = flow_->Counters();
  f.records_acked = CounterOf(counters, "records_sent");
  f.records_dead_lettered = CounterOf(counters, "records_dead_lettered");
  f.records_failed_plugins = flow_->plugins().dead_lettered();
  f.records_dropped = flow_->plugins().dropped() - f.records_failed_plugins;
  f.sizes_known = sizes_known_;
  for (const TailedFileStatus& in : flow_->Files()) {
    f.bytes_acked += in.committed;
    f.input_bytes_total += in.size;
  }
  return f;
}

SendOutcome SendSession::Outcome() const {
  SendOutcome out;
  out.figures = Figures();
  out.destination = destination_;
  out.signal = signal_;
  out.gave_up = gave_up_;
  out.max_retry_time = plan_.max_retry_time;
  out.dead_letter_path = dead_letters_ != nullptr ? dead_letters_->path() : plan_.dead_letter_path;
  if (dead_letters_ != nullptr) out.dead_letters_to_stderr = dead_letters_->fallen_back();
  if (source_ != nullptr) {
    out.input_errors = source_->errors();
    // Inputs are read one after another: the first inputs_done of them are over.
    std::uint64_t index = 0;
    for (const TailedFileStatus& in : flow_->Files()) {
      out.inputs.push_back(SendInputState{in.path, in.committed, in.figures.bytes_read,
                                          index++ < source_->counters().inputs_done});
    }
  }
  if (flow_) out.errors = flow_->Errors();
  return out;
}

void SendSession::DrawProgress(bool last) {
  std::string line = "\r" + FormatSendProgress(Figures(), plan_.progress_width) + "\x1b[K";
  if (last) line += "\n";
  WriteText(plan_.progress_fd, line);
  progress_drawn_ = !last;
}

}  // namespace ferry
