// Lets a test running as root see permission errors: clears CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from
// the calling thread's effective capabilities for its lifetime (they stay permitted, so they come back).
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ferry::testing {

class WithoutFileCapabilities {
 public:
  WithoutFileCapabilities() {
    if (Get(saved_) != 0) return;
    __user_cap_data_struct reduced[_LINUX_CAPABILITY_U32S_3];
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) reduced[i] = saved_[i];
    for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH})
      reduced[cap / 32].effective &= ~(1u << (cap % 32));
    active_ = Set(reduced) == 0;
  }
  ~WithoutFileCapabilities() {
    if (active_) Set(saved_);
  }
  WithoutFileCapabilities(const WithoutFileCapabilities&) = delete;
  WithoutFileCapabilities& operator=(const WithoutFileCapabilities&) = delete;

  // Whether permission bits now apply to this thread (always true for a user without the capabilities).
  bool active() const { return active_ || ::geteuid() != 0; }

 private:
  static int Get(__user_cap_data_struct* data) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    return static_cast<int>(::syscall(SYS_capget, &header, data));
  }
  static int Set(__user_cap_data_struct* data) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    return static_cast<int>(::syscall(SYS_capset, &header, data));
  }

  __user_cap_data_struct saved_[_LINUX_CAPABILITY_U32S_3]{};
  bool active_ = false;
};

}  // namespace ferry::testing
