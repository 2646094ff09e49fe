// StateLock: one ferry per state_dir. An exclusive flock(2) on state_dir/ferry.lock, held for the life of
// the process (the kernel drops it when the process dies, even by kill -9), so two daemons can never write
// the same checkpoints or spool, however they race at start.
#pragma once

#include <string>

#include "agent/core/result.h"

namespace ferry {

class StateLock {
 public:
  // Takes the lock or says who holds it (the pid written in the file by the holder).
  static Result<StateLock> Acquire(const std::string& state_dir);

  StateLock(StateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace ferry
