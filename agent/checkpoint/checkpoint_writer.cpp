// CheckpointWriter: one uv_work_t per write. The request owns everything the pool thread reads (file name,
// text, the store function); the writer only points at it, and forgets it when destroyed.
#include "agent/checkpoint/checkpoint_writer.h"

#include <time.h>

#include <utility>

namespace ferry {
namespace {

std::uint64_t ThreadCpuNs() {
  timespec ts{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

struct CheckpointWriter::Request {
  uv_work_t work{};
  CheckpointWriter* owner = nullptr;  // null once the writer is gone
  std::shared_ptr<const Store> store;
  std::string file;
  std::string text;
  Outcome outcome;
};

CheckpointWriter::CheckpointWriter(uv_loop_t* loop, std::string path,
                                   std::function<void(const Outcome&)> on_done, Store store)
    : loop_(loop),
      path_(std::move(path)),
      recent_path_(RecentCheckpointPath(path_)),
      on_done_(std::move(on_done)),
      store_(std::make_shared<const Store>(std::move(store))) {}

CheckpointWriter::~CheckpointWriter() {
  if (in_flight_ != nullptr) in_flight_->owner = nullptr;
}

void CheckpointWriter::Write(std::string text, bool durable) {
  auto request = std::make_unique<Request>();
  request->owner = this;
  request->store = store_;
  request->file = durable ? path_ : recent_path_;
  request->text = std::move(text);
  request->outcome.durable = durable;
  request->work.data = request.get();
  int rc = uv_queue_work(loop_, &request->work, &Work, &AfterWork);
  if (rc != 0) {
    // Only fails for a null callback or a closing loop: report it like a failed write.
    Outcome failed;
    failed.durable = durable;
    failed.status = Error(ErrorCode::kIo, std::string("checkpoint file ") + request->file +
                                              ": cannot queue the write: " + uv_strerror(rc));
    if (on_done_) on_done_(failed);
    return;
  }
  in_flight_ = request.release();
}

void CheckpointWriter::Work(uv_work_t* req) {
  // On a pool thread: only the request's own members are touched.
  auto* request = static_cast<Request*>(req->data);
  const std::uint64_t began = ThreadCpuNs();
  request->outcome.status = (*request->store)(request->file, request->text, request->outcome.durable);
  request->outcome.cpu_ns = ThreadCpuNs() - began;
}

void CheckpointWriter::AfterWork(uv_work_t* req, int status) {
  std::unique_ptr<Request> request(static_cast<Request*>(req->data));
  if (status == UV_ECANCELED) {
    request->outcome.status = Error(ErrorCode::kIo, "checkpoint file " + request->file + ": write cancelled");
  }
  CheckpointWriter* owner = request->owner;
  if (owner == nullptr) return;
  owner->in_flight_ = nullptr;
  if (owner->on_done_) owner->on_done_(request->outcome);
}

}  // namespace ferry
