// RetryOptions: how a sender paces its attempts, the config's `retry` section: exponential backoff with
// full jitter from backoff_base up to backoff_cap, and slow_retry for errors only an operator can fix
// (missing stream, denied access, KMS). The defaults live here.
#pragma once

#include "agent/core/units.h"

namespace ferry {

struct RetryOptions {
  Duration backoff_base{100};
  Duration backoff_cap{10000};
  Duration slow_retry{60000};
};

}  // namespace ferry
