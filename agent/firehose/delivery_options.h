// DeliveryOptions: what a flow's `firehose:` section says, as the Firehose output reads it. The config's
// field tables (config/destination_fields.cpp) map YAML keys onto these members, so each default lives
// here once and `ferry check --keys` shows it.
#pragma once

#include <cstdint>
#include <string>

#include "agent/core/units.h"
#include "agent/delivery/payload_compression.h"

namespace ferry::firehose {

struct DeliveryOptions {
  std::string delivery_stream;
  Duration max_age{1000};                     // a line waits at most this long before its request is sent
  bool pack = true;                           // lines joined into records (each line ends with its newline)
  std::uint64_t pack_max_bytes = 1000 << 10;  // largest packed record
  Compression compression = Compression::kNone;
};

}  // namespace ferry::firehose
