// Fuzz target: HttpRequestHead (agent/ops/http_request_head), the metrics endpoint's reader of request
// heads from any client that can connect. The first byte picks how the rest is split into reads, since a
// client chooses that too. Whatever the input: the head held never exceeds its bound, the verdict does not
// depend on the split, a complete head has an HTTP/1.x version and a path starting with '/', and the
// answer built for it is a well-formed HTTP/1.1 status line. libFuzzer calls it on one thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/ops/http_request_head.h"
#include "agent/ops/metrics_server.h"

namespace {

constexpr std::size_t kMax = 512;  // small, so the fuzzer reaches the bound often

ferry::HttpRequestHead Feed(std::string_view text, std::size_t chunk) {
  ferry::HttpRequestHead head(kMax);
  while (!text.empty()) {
    const std::size_t n = std::min(chunk, text.size());
    head.Feed(text.substr(0, n));
    if (head.held() > kMax) __builtin_trap();
    text.remove_prefix(n);
  }
  return head;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = data[0] % 16 + 1;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const ferry::HttpRequestHead whole = Feed(text, text.size() + 1);
  const ferry::HttpRequestHead split = Feed(text, chunk);
  if (whole.state() != split.state() || whole.status() != split.status() || whole.path() != split.path() ||
      whole.method() != split.method()) {
    __builtin_trap();
  }
  if (whole.state() == ferry::HttpRequestHead::State::kComplete) {
    if (whole.path().empty() || whole.path().front() != '/' || whole.minor_version() > 9) __builtin_trap();
  }
  if (whole.state() == ferry::HttpRequestHead::State::kBad) {
    const int s = whole.status();
    if (s != 400 && s != 431 && s != 505) __builtin_trap();
  }
  if (whole.state() != ferry::HttpRequestHead::State::kIncomplete) {
    const std::string answer = ferry::MetricsHttpAnswer(whole, [] { return std::string("m 1\n"); });
    if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.find("\r\n\r\n") == std::string::npos) __builtin_trap();
  }
  return 0;
}
