// InvocationIds: the invocationId of each event the lambda plugin writes: a UUID version 4 (RFC 9562,
// random), as Firehose gives its transformation Lambdas, from a generator the plugin owns and seeds (a
// test gives a fixed seed; ferry seeds it from std::random_device once per plugin). Not for secrets: an id
// only has to be unique enough to tell invocations apart in a function's logs. Loop thread only.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace ferry::plugins {

class InvocationIds {
 public:
  explicit InvocationIds(std::uint64_t seed) : random_(seed) {}

  // "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower-case hex, y one of 8 9 a b.
  std::string Next();

  static constexpr std::size_t kLength = 36;

 private:
  std::mt19937_64 random_;
};

}  // namespace ferry::plugins
