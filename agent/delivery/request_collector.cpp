// RequestCollector: size checks before adding, one age timer armed by the first record of a request.
#include "agent/delivery/request_collector.h"

#include "agent/core/uv_handle.h"

namespace ferry {

RequestCollector::RequestCollector(uv_loop_t* loop, RequestLimits limits, Duration max_age, Flush flush)
    : limits_(limits), max_age_(max_age), flush_(std::move(flush)) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  records_.reserve(limits_.max_records);
}

bool RequestCollector::OverLaneLimit(const WireRecord& record) const {
  if (record.lane.empty() || (limits_.max_lane_bytes == 0 && limits_.max_lane_records == 0)) return false;
  for (const LaneCount& load : lanes_) {
    if (load.lane != record.lane) continue;
    return (limits_.max_lane_bytes != 0 && load.bytes + record.size() > limits_.max_lane_bytes) ||
           (limits_.max_lane_records != 0 && load.records + 1 > limits_.max_lane_records);
  }
  return false;
}

void RequestCollector::CountLane(const WireRecord& record) {
  if (record.lane.empty() || (limits_.max_lane_bytes == 0 && limits_.max_lane_records == 0)) return;
  for (LaneCount& load : lanes_) {
    if (load.lane == record.lane) {
      load.bytes += record.size();
      ++load.records;
      return;
    }
  }
  lanes_.push_back({record.lane, record.size(), 1});
}

void RequestCollector::Add(WireRecord record) {
  if (!records_.empty() && (bytes_ + record.size() > limits_.max_bytes || OverLaneLimit(record))) FlushNow();
  if (records_.empty()) {
    uv_timer_start(
        &timer_, [](uv_timer_t* t) { static_cast<RequestCollector*>(t->data)->FlushNow(); },
        static_cast<std::uint64_t>(max_age_.count()), 0);
  }
  bytes_ += record.size();
  CountLane(record);
  records_.push_back(std::move(record));
  if (records_.size() >= limits_.max_records || bytes_ >= limits_.max_bytes) FlushNow();
}

void RequestCollector::FlushNow() {
  uv_timer_stop(&timer_);
  if (records_.empty()) return;
  std::vector<WireRecord> request;
  request.reserve(limits_.max_records);
  request.swap(records_);
  bytes_ = 0;
  lanes_.clear();
  flush_(std::move(request));
}

void RequestCollector::Close(std::function<void()> on_closed) {
  CloseHandle(&timer_, std::move(on_closed));
}

}  // namespace ferry
