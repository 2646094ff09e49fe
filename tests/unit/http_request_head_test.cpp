// Tests of HttpRequestHead (agent/ops/http_request_head.h): the metrics endpoint's reader of request heads.
#include "agent/ops/http_request_head.h"

#include <string>

#include <catch2/catch.hpp>

namespace ferry {
namespace {

using State = HttpRequestHead::State;

HttpRequestHead Parse(std::string_view text, std::size_t max = 8192) {
  HttpRequestHead head(max);
  head.Feed(text);
  return head;
}

TEST_CASE("a Prometheus scrape's head is complete with its method, path and version", "[http_request_head]") {
  auto head = Parse(
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9145\r\nUser-Agent: Prometheus/2.45.0\r\n"
      "Accept: text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n");
  CHECK(head.state() == State::kComplete);
  CHECK(head.method() == "GET");
  CHECK(head.path() == "/metrics");
  CHECK(head.minor_version() == 1);
}

TEST_CASE("HTTP/1.0, bare LF line ends and leading empty lines are taken", "[http_request_head]") {
  auto head = Parse("\r\n\nHEAD /metrics?format=x HTTP/1.0\nAccept: */*\n\n");
  CHECK(head.state() == State::kComplete);
  CHECK(head.method() == "HEAD");
  CHECK(head.path() == "/metrics");
  CHECK(head.minor_version() == 0);
}

TEST_CASE("an absolute-form target is reduced to its path", "[http_request_head]") {
  CHECK(Parse("GET http://host:9145/metrics HTTP/1.1\r\n\r\n").path() == "/metrics");
  CHECK(Parse("GET http://host:9145 HTTP/1.1\r\n\r\n").path() == "/");
}

TEST_CASE("a head arriving one byte at a time is the same head", "[http_request_head]") {
  const std::string text = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  HttpRequestHead head;
  for (std::size_t i = 0; i < text.size(); ++i) {
    CHECK(head.state() == State::kIncomplete);
    head.Feed(text.substr(i, 1));
  }
  CHECK(head.state() == State::kComplete);
  CHECK(head.path() == "/metrics");
}

TEST_CASE("a head that does not end is incomplete until it reaches the bound, then 431",
          "[http_request_head]") {
  HttpRequestHead head(64);
  CHECK(head.Feed("GET /metrics HTTP/1.1\r\nX: ") == State::kIncomplete);
  for (int i = 0; i < 100 && head.state() == State::kIncomplete; ++i) head.Feed("aaaa");
  CHECK(head.state() == State::kBad);
  CHECK(head.status() == 431);
  CHECK(head.held() <= 64);
}

TEST_CASE("a 1 MiB request line is refused with 431 holding no more than the bound", "[http_request_head]") {
  const std::string line = "GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\r\n\r\n";
  auto head = Parse(line);
  CHECK(head.state() == State::kBad);
  CHECK(head.status() == 431);
  CHECK(head.held() <= 8192);
}

TEST_CASE("malformed request lines are 400, other HTTP versions 505", "[http_request_head]") {
  for (const char* text :
       {"GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1 x\r\n\r\n", "G(T /metrics HTTP/1.1\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
        "GET /a\x01 HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.x\r\n\r\n", "GET /metrics http/1.1\r\n\r\n",
        "GET /metrics HTTP/11\r\n\r\n", "\x16\x03\x01\x02\x05\x01\x01\x01\xfc\x03\x03\n"}) {
    INFO(text);
    auto head = Parse(text);
    CHECK(head.state() == State::kBad);
    CHECK(head.status() == 400);
  }
  for (const char* text : {"GET /metrics HTTP/2.0\r\n\r\n", "GET /metrics HTTP/0.9\r\n\r\n"}) {
    auto head = Parse(text);
    CHECK(head.state() == State::kBad);
    CHECK(head.status() == 505);
  }
}

TEST_CASE("malformed header lines are 400", "[http_request_head]") {
  for (const char* text : {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
                           "GET / HTTP/1.1\r\n: empty name\r\n\r\n", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
                           "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n"}) {
    INFO(text);
    auto head = Parse(text);
    CHECK(head.state() == State::kBad);
    CHECK(head.status() == 400);
  }
}

TEST_CASE("a bad request line is refused at once, before the head ends", "[http_request_head]") {
  HttpRequestHead head;
  CHECK(head.Feed("BOGUS\r\n") == State::kBad);
}

TEST_CASE("bytes after the head are not read", "[http_request_head]") {
  HttpRequestHead head;
  CHECK(head.Feed("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello GET") == State::kComplete);
  CHECK(head.Feed(std::string(100000, 'x')) == State::kComplete);
  CHECK(head.method() == "POST");
  CHECK(head.held() < 100);
}

}  // namespace
}  // namespace ferry
