// Daemon's metrics endpoint: opened right after the status socket (so a port in use stops `ferry run`
// before any AWS look-up), closed in CloseAll, and rendered from the same figures as StatusSnapshot.
#include <unistd.h>

#include "agent/ops/daemon.h"
#include "agent/ops/metrics_exposition.h"
#include "ferry/version.h"

namespace ferry {

Status Daemon::OpenMetrics() {
  if (!config_->metrics) return Status::Ok();
  auto address = ParseListenAddress(config_->metrics->listen);
  if (!address) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: {}", config::LocatedKey(*config_, "metrics.listen"), address.error().message()));
  }
  return StartMetrics(std::move(*address));
}

Status Daemon::StartMetrics(ListenAddress address) {
  metrics_ = std::make_unique<MetricsServer>(&loop_, *log_, std::move(address),
                                             [this] { return MetricsSnapshot(); });
  return metrics_->Start();
}

void Daemon::ReopenMetrics(const config::Config& next) {
  // The new endpoint opens once the old one is closed, so the same port can be bound again.
  auto open_next = [this, metrics = next.metrics] {
    if (stopping_ || !metrics) return;
    auto address = ParseListenAddress(metrics->listen);  // validated with the config: cannot fail here
    Status opened = address ? StartMetrics(std::move(*address)) : Status(address.error());
    if (!opened) {
      metrics_.reset();
      log_->error("reload: no metrics endpoint: {}", opened.error().message());
      return;
    }
    log_->info("reload: metrics endpoint on {}", metrics->listen);
  };
  if (!metrics_) return open_next();
  MetricsServer* closing = metrics_.release();
  closing->Close([closing, open_next] {
    delete closing;
    open_next();
  });
}

std::string Daemon::MetricsSnapshot() const {
  MetricsFacts facts;
  facts.daemon.version = kVersion;
  facts.daemon.pid = static_cast<long>(::getpid());
  facts.daemon.uptime_seconds = static_cast<double>(uv_now(&loop_) - started_at_) / 1000.0;
  if (aws_ && aws_->has_credentials()) {
    auto& creds = aws_->credentials();
    facts.daemon.credentials_provider = creds.provider_name();
    facts.daemon.credential_refreshes = creds.counters().refreshes;
    facts.daemon.credential_refresh_failures = creds.counters().refresh_failures;
  }
  facts.memory_used = budget_.used();
  facts.memory_limit = budget_.limit();
  facts.process = ReadProcessFigures();
  if (metrics_) facts.server = metrics_->counters();
  std::vector<FlowFigures> flows;
  for (const Flow* flow : flows_.List()) {
    std::string service, destination;
    for (const auto& options : config_->flows) {
      if (options.name != flow->name()) continue;
      service = options.kinesis ? "kinesis" : "firehose";
      destination = options.kinesis ? options.kinesis->stream : options.firehose->delivery_stream;
    }
    flows.push_back(FlowFiguresOf(*flow, std::move(service), std::move(destination)));
  }
  return MetricsText(facts, flows);
}

}  // namespace ferry
