// PoolRunner: runs one job at a time on libuv's thread pool (uv_queue_work), so that blocking disk calls
// (write, fdatasync, creating, renaming and deleting files, syncing folders) stay off the loop thread
// (DESIGN.md §3: a slow SD card must not stall reading and sending). An owner that has more to do keeps a
// queue and starts its next job from the previous one's completion: one job at a time, in order.
//
// Hand-over, never sharing: a job is an object the loop fills and moves into Run; its Work() runs on a
// pool thread and touches only the job's own members; the job then comes back, moved, to `done` on the
// loop, which reads what Work left in it. libuv's queue orders the two threads' accesses; nothing else
// crosses threads, so a job must not hold pointers to loop-side state (nor BatchRefs, which are not
// thread-safe).
//
// Lifetime: a runner destroyed while its job runs cannot stop it (the pool thread may be inside a system
// call): the job finishes, is destroyed on the loop, and its `done` is not called. uv_run does not return
// while a job is active. Loop thread only; Job::Work on a pool thread.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace ferry {

class PoolRunner {
 public:
  // What a job hands over; Work runs on a pool thread.
  class Job {
   public:
    virtual ~Job() = default;
    virtual void Work() = 0;
  };

  explicit PoolRunner(uv_loop_t* loop) : loop_(loop) {}
  ~PoolRunner();
  PoolRunner(const PoolRunner&) = delete;
  PoolRunner& operator=(const PoolRunner&) = delete;

  // Runs job->Work() on a pool thread, then done(job) on the loop. Only while !busy(). `done` runs after
  // busy() turned false, so it may start the next job.
  template <typename J>
  void Run(std::unique_ptr<J> job, std::function<void(std::unique_ptr<J>)> done) {
    RunJob(std::move(job), [done = std::move(done)](std::unique_ptr<Job> finished) {
      done(std::unique_ptr<J>(static_cast<J*>(finished.release())));
    });
  }

  bool busy() const { return in_flight_ != nullptr; }
  uv_loop_t* loop() const { return loop_; }

  // For an owner's "wait for the disk work under way": idle_done runs at once if no job runs, else from
  // the owner's next call of RunIdleWaiters that finds the runner idle (an owner that queues its next job
  // from a completion calls it last there, so the waiters run once its queue is empty).
  void WhenIdle(std::function<void()> idle_done);
  void RunIdleWaiters();

 private:
  struct Request;
  void RunJob(std::unique_ptr<Job> job, std::function<void(std::unique_ptr<Job>)> done);
  static void AfterWork(uv_work_t* work, int status);

  uv_loop_t* loop_;
  Request* in_flight_ = nullptr;
  std::vector<std::function<void()>> idle_waiters_;
};

}  // namespace ferry
