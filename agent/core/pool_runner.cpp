// PoolRunner: one uv_work_t per job, owned by the request until its completion ran on the loop.
#include "agent/core/pool_runner.h"

namespace ferry {

struct PoolRunner::Request {
  uv_work_t work{};
  std::unique_ptr<Job> job;
  std::function<void(std::unique_ptr<Job>)> done;
  PoolRunner* owner = nullptr;  // null once the runner is gone; read and written on the loop only
};

PoolRunner::~PoolRunner() {
  if (in_flight_ != nullptr) in_flight_->owner = nullptr;
}

void PoolRunner::RunJob(std::unique_ptr<Job> job, std::function<void(std::unique_ptr<Job>)> done) {
  auto* request = new Request;
  request->job = std::move(job);
  request->done = std::move(done);
  request->owner = this;
  request->work.data = request;
  in_flight_ = request;
  // uv_queue_work fails only without a work callback.
  uv_queue_work(
      loop_, &request->work, [](uv_work_t* work) { static_cast<Request*>(work->data)->job->Work(); },
      &AfterWork);
}

void PoolRunner::AfterWork(uv_work_t* work, int) {
  std::unique_ptr<Request> request(static_cast<Request*>(work->data));
  if (request->owner == nullptr) return;
  request->owner->in_flight_ = nullptr;
  auto done = std::move(request->done);
  done(std::move(request->job));
}

void PoolRunner::WhenIdle(std::function<void()> idle_done) {
  if (busy()) {
    idle_waiters_.push_back(std::move(idle_done));
  } else {
    idle_done();
  }
}

void PoolRunner::RunIdleWaiters() {
  if (busy() || idle_waiters_.empty()) return;
  std::vector<std::function<void()>> waiters;
  waiters.swap(idle_waiters_);
  for (auto& done : waiters) done();
}

}  // namespace ferry
