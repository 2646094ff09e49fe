// Test support for the tests of signed AWS requests (json_request, the destinations, compression): a clock
// fixed at the time of AWS's SigV4 examples, and a lookup of one header that fails a test if it is sent
// twice.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/clock.h"
#include "agent/net/http_client.h"

namespace ferry::testing {

class FixedClock : public Clock {
 public:
  std::int64_t UnixSeconds() const override { return 1440938160; }  // 2015-08-30T12:36:00Z
};

// The value of header `name`, or null when it is absent.
inline const std::string* Header(const net::HttpRequest& request, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [n, v] : request.headers) {
    if (n == name) {
      REQUIRE(found == nullptr);  // each header once
      found = &v;
    }
  }
  return found;
}

}  // namespace ferry::testing
