// Billing units: two roundings up, each with its minimum.
#include "agent/delivery/billing_units.h"

#include <algorithm>

namespace ferry {

std::uint64_t KinesisPayloadUnits(std::size_t data_bytes) {
  const std::uint64_t bytes = data_bytes;
  return std::max<std::uint64_t>(1, (bytes + kKinesisPayloadUnitBytes - 1) / kKinesisPayloadUnitBytes);
}

std::uint64_t FirehoseBilledBytes(std::size_t data_bytes) {
  const std::uint64_t bytes = data_bytes;
  const std::uint64_t steps =
      std::max<std::uint64_t>(1, (bytes + kFirehoseBillingStepBytes - 1) / kFirehoseBillingStepBytes);
  return steps * kFirehoseBillingStepBytes;
}

}  // namespace ferry
