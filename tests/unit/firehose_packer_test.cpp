// Tests of FirehosePacker (agent/firehose/record_packer): lines are joined with their newlines into records
// of at most max_record_bytes, across batches; a long line goes alone and an over-long one in pieces;
// acknowledging a packed record acknowledges every user record in it, so each source batch's range
// reaches the AckSink; and open packs leave by age.
#include "agent/firehose/record_packer.h"

#include <uv.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace ferry::firehose {
namespace {

using Call = std::tuple<SourceId, std::uint64_t, std::uint64_t>;

struct RecordingSink : AckSink {
  std::vector<Call> calls;
  void OnBatchDone(SourceId source, std::uint64_t start, std::uint64_t end) override {
    calls.emplace_back(source, start, end);
  }
};

// A loop, a collector with PutRecordBatch's limits, a packer feeding it, and the requests flushed.
// Finish() closes both handles and checks the loop is empty.
class Harness {
 public:
  explicit Harness(FirehosePackerOptions options = {}, Duration collector_age = Duration(60000),
                   RequestLimits limits = kRequestLimits)
      : budget(1ULL << 40) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    collector_.emplace(&loop_, limits, collector_age,
                       [this](std::vector<WireRecord>&& request) { requests.push_back(std::move(request)); });
    packer_.emplace(&loop_, *collector_, options, &budget);
  }
  ~Harness() {
    if (packer_) Finish();
  }

  // A sealed batch of lines from `source`, each line taking its bytes and a newline of the source's range.
  BatchRef MakeBatch(SourceId source, std::uint64_t start, const std::vector<std::string>& lines) {
    BatchRef batch(new Batch(source, start, &sink, 256, &budget));
    std::uint64_t offset = start;
    for (const auto& line : lines) {
      offset += line.size() + 1;
      batch->records().push_back(Record{batch->arena().Copy(line), offset});
    }
    batch->set_end_offset(offset);
    batch->Seal();
    return batch;
  }
  void Send(SourceId source, std::uint64_t start, const std::vector<std::string>& lines) {
    packer().Accept(MakeBatch(source, start, lines));
  }

  // Everything packed so far, out of the packer and the collector.
  std::vector<WireRecord> FlushAll() {
    packer().FlushNow();
    collector().FlushNow();
    return Records();
  }
  std::vector<WireRecord> Records() const {
    std::vector<WireRecord> all;
    for (const auto& r : requests) all.insert(all.end(), r.begin(), r.end());
    return all;
  }
  std::vector<std::string> Data() const {
    std::vector<std::string> out;
    for (const auto& r : Records()) out.emplace_back(r.data);
    return out;
  }

  void Finish() {
    int closed = 0;
    packer_->Close([&] { ++closed; });
    collector_->Close([&] { ++closed; });
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(closed == 2);
    packer_.reset();
    collector_.reset();
    CHECK(uv_loop_close(&loop_) == 0);
  }

  uv_loop_t* loop() { return &loop_; }
  RequestCollector& collector() { return *collector_; }
  FirehosePacker& packer() { return *packer_; }

  MemoryBudget budget;
  RecordingSink sink;
  std::vector<std::vector<WireRecord>> requests;

 private:
  uv_loop_t loop_{};
  std::optional<RequestCollector> collector_;
  std::optional<FirehosePacker> packer_;
};

FirehosePackerOptions Limit(std::size_t max_record_bytes) {
  FirehosePackerOptions options;
  options.max_record_bytes = max_record_bytes;
  return options;
}

TEST_CASE("Packer joins lines with their newlines into one record", "[firehose]") {
  Harness h;
  h.Send(1, 0, {"alpha", "bb", "c"});
  CHECK(h.packer().open_records() == 3);
  CHECK(h.requests.empty());
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  CHECK(records[0].data == "alpha\nbb\nc\n");
  CHECK(records[0].partition_key.empty());
  CHECK(records[0].user_records == 3);
  CHECK(h.packer().counters().user_records == 3);
  CHECK(h.packer().counters().wire_records == 1);
  CHECK(h.packer().counters().wire_bytes == 11);
  CHECK(h.packer().counters().cross_batch == 0);
  CHECK(h.packer().open_records() == 0);
}

TEST_CASE("Packer sends the open pack and the request at once when the memory budget is spent",
          "[firehose]") {
  FirehosePackerOptions options;
  options.max_age = Duration(60000);  // only the budget can make anything leave before the test ends
  Harness h(options);
  h.Send(1, 0, {"alpha", "bb"});
  CHECK(h.requests.empty());
  h.budget.MarkStarved();
  CHECK(h.Data() == std::vector<std::string>{"alpha\nbb\n"});
  CHECK(h.packer().open_records() == 0);
  CHECK(h.collector().pending_records() == 0);
}

TEST_CASE("Packer acknowledges every user record of a packed record", "[firehose]") {
  Harness h;
  h.Send(7, 100, {"one", "two", "three"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  CHECK(h.sink.calls.empty());
  records[0].Ack();
  CHECK(h.sink.calls == std::vector<Call>{{7, 100, 114}});
}

TEST_CASE("Packer packs lines of several batches and acknowledges each batch", "[firehose]") {
  Harness h;
  h.Send(1, 0, {"a1", "a2"});
  h.Send(2, 500, {"b1"});
  h.Send(1, 6, {"a3", "a4", "a5"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  CHECK(records[0].data == "a1\na2\nb1\na3\na4\na5\n");
  CHECK(records[0].user_records == 6);  // every line in it; the holder acknowledges the batches
  CHECK(h.packer().counters().cross_batch == 1);
  CHECK(h.sink.calls.empty());
  records[0].Ack();
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 6}, {2, 500, 503}, {1, 6, 15}});
}

TEST_CASE("Packer acknowledges a batch only when all its packed records are", "[firehose]") {
  // 12 bytes per record: "a1\na2\na3\na4\n" fills one; a5 starts the next, which b1 joins.
  Harness h(Limit(12));
  h.Send(1, 0, {"a1", "a2", "a3", "a4", "a5"});
  h.Send(2, 0, {"b1"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 2);
  CHECK(records[0].data == "a1\na2\na3\na4\n");
  CHECK(records[0].user_records == 4);
  CHECK(records[1].data == "a5\nb1\n");
  CHECK(records[1].user_records == 2);
  records[1].Ack();  // a5 and b1
  CHECK(h.sink.calls == std::vector<Call>{{2, 0, 3}});
  records[0].Ack();  // a1..a4: batch 1 is complete now
  CHECK(h.sink.calls == std::vector<Call>{{2, 0, 3}, {1, 0, 15}});
}

TEST_CASE("Packer never exceeds max_record_bytes and loses nothing", "[firehose]") {
  const std::size_t limit = 100;
  Harness h(Limit(limit));
  std::minstd_rand random(42);
  std::string expected;
  std::vector<std::size_t> line_sizes;
  std::uint64_t offset = 0;
  std::size_t batches_with_lines = 0;
  for (SourceId batch = 0; batch < 40; ++batch) {
    std::vector<std::string> lines;
    std::size_t n = random() % 7;  // empty batches too
    if (n > 0) ++batches_with_lines;
    for (std::size_t i = 0; i < n; ++i) {
      std::string line(random() % limit, static_cast<char>('a' + random() % 26));  // up to limit - 1
      expected += line + "\n";
      line_sizes.push_back(line.size() + 1);
      lines.push_back(std::move(line));
    }
    h.Send(1, offset, lines);
    offset += 1000;
  }
  auto records = h.FlushAll();
  std::string joined;
  std::size_t next_line = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    INFO("record " << i);
    std::string_view data = records[i].data;
    CHECK(data.size() <= limit);
    CHECK(data.back() == '\n');
    joined += data;
    std::size_t size = 0;
    while (size < data.size()) size += line_sizes[next_line++];
    CHECK(size == data.size());  // records hold whole lines
    // Greedy: a record closed only because the next line did not fit.
    if (next_line < line_sizes.size()) CHECK(data.size() + line_sizes[next_line] > limit);
  }
  CHECK(joined == expected);
  CHECK(h.packer().counters().user_records == line_sizes.size());

  // Every batch with lines reports once all its records are acknowledged, and not before.
  auto reported = [&] {
    std::size_t n = 0;
    for (const auto& call : h.sink.calls) n += std::get<1>(call) != std::get<2>(call);
    return n;
  };
  CHECK(reported() == 0);
  for (const auto& r : records) r.Ack();
  CHECK(reported() == batches_with_lines);
}

TEST_CASE("Packer sends a line too long to share as its own record", "[firehose]") {
  Harness h(Limit(100));
  std::string long_line(150, 'L');
  std::string exact(99, 'E');  // with its newline exactly the limit
  h.Send(1, 0, {"short", long_line, "after", exact, "last"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 5);
  CHECK(records[0].data == "short\n");
  CHECK(records[1].data == long_line + "\n");
  CHECK(records[2].data == "after\n");
  CHECK(records[3].data == exact + "\n");
  CHECK(records[4].data == "last\n");
  for (const auto& r : records) CHECK(r.user_records == 1);
  for (const auto& r : records) r.Ack();
  CHECK(h.sink.calls == std::vector<Call>{{1, 0, 268}});
}

TEST_CASE("Packer sends a line longer than Firehose's record limit in pieces acknowledged together",
          "[firehose]") {
  Harness h;
  std::string huge(2 * kMaxRecordBytes + 5000, 'x');
  huge[0] = 'S';
  huge.back() = 'E';
  h.Send(3, 0, {"before", huge, "after"});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 5);
  CHECK(records[0].data == "before\n");
  CHECK(records[1].data.size() == kMaxRecordBytes);
  CHECK(records[2].data.size() == kMaxRecordBytes);
  CHECK(records[3].data.size() == 5001);
  CHECK(std::string(records[1].data) + std::string(records[2].data) + std::string(records[3].data) ==
        huge + "\n");
  CHECK(records[4].data == "after\n");
  CHECK(h.packer().counters().oversize_split == 1);
  for (const auto& r : records) CHECK(r.data.size() <= kMaxRecordBytes);

  records[0].Ack();
  records[4].Ack();
  records[1].Ack();
  records[3].Ack();
  CHECK(h.sink.calls.empty());  // one piece still out
  records[2].Ack();
  CHECK(h.sink.calls == std::vector<Call>{{3, 0, 7 + huge.size() + 1 + 6}});
}

TEST_CASE("Packer marks each record with what its lines would be billed one record each", "[firehose]") {
  Harness h(Limit(8'000));
  const std::string long_line(5'119, 'l');  // 5,120 bytes with its newline: one step alone
  const std::string longer(5'120, 'm');     // 5,121 with its newline: two steps
  h.Send(1, 0, {"a", long_line, longer});
  h.Send(2, 0, {"b"});
  const std::string huge(kMaxRecordBytes + 10, 'h');
  h.Send(3, 0, {huge});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 4);
  CHECK(records[0].user_records == 2);  // "a", long_line: the next does not fit 8,000 bytes
  CHECK(records[0].unaggregated_units == 5'120 + 5'120);
  CHECK(records[1].user_records == 2);  // longer, "b" from another batch
  CHECK(records[1].unaggregated_units == 10'240 + 5'120);
  // A line too long for one record goes in pieces even alone: each piece is billed as it is.
  CHECK(records[2].unaggregated_units == kMaxRecordBytes);
  CHECK(records[3].unaggregated_units == 5'120);
}

TEST_CASE("Packer's packed records fill PutRecordBatch requests to the limits", "[firehose]") {
  SECTION("500 records") {
    Harness h(Limit(10));
    std::vector<std::string> lines(1200, "abcd");  // two lines per 10-byte record: 600 records
    h.Send(1, 0, lines);
    h.FlushAll();
    REQUIRE(h.requests.size() == 2);
    CHECK(h.requests[0].size() == 500);
    CHECK(h.requests[1].size() == 100);
  }
  SECTION("4 MiB") {
    Harness h;
    std::vector<std::string> lines(9, std::string(FirehosePacker::MaxDataBytes(), 'z'));
    h.Send(1, 0, lines);
    h.FlushAll();
    REQUIRE(h.requests.size() == 3);
    CHECK(h.requests[0].size() == 4);  // 4 x 1,024,000 bytes fit 4 MiB, 5 would not
    CHECK(h.requests[1].size() == 4);
    CHECK(h.requests[2].size() == 1);
    for (const auto& request : h.requests) {
      std::size_t bytes = 0;
      for (const auto& r : request) bytes += r.size();
      CHECK(bytes <= kRequestLimits.max_bytes);
      for (const auto& r : request) CHECK(r.data.size() == kMaxRecordBytes);
    }
  }
}

TEST_CASE("Packer sends an open pack once its first line has waited max_age", "[firehose]") {
  FirehosePackerOptions options;
  options.max_age = Duration(20);
  Harness h(options, Duration(60000));
  h.Send(1, 0, {"quiet"});
  h.Send(2, 0, {"source"});
  std::uint64_t start = uv_now(h.loop());
  while (h.requests.empty()) uv_run(h.loop(), UV_RUN_ONCE);
  CHECK(uv_now(h.loop()) - start >= 20);
  CHECK(uv_now(h.loop()) - start < 60000);  // not the collector's age: the packer flushed it
  REQUIRE(h.requests.size() == 1);
  REQUIRE(h.requests[0].size() == 1);
  CHECK(h.requests[0][0].data == "quiet\nsource\n");
  CHECK(h.packer().open_records() == 0);
}

TEST_CASE("Packer's FlushNow hands the pack on and leaves the collector alone", "[firehose]") {
  Harness h;
  h.Send(1, 0, {"x"});
  h.packer().FlushNow();
  CHECK(h.packer().open_records() == 0);
  CHECK(h.requests.empty());
  CHECK(h.collector().pending_records() == 1);
  h.packer().FlushNow();  // nothing open: nothing happens
  CHECK(h.collector().pending_records() == 1);
}

TEST_CASE("Packer passes empty records on as bare newlines", "[firehose]") {
  Harness h;
  h.Send(1, 0, {"", "a", ""});
  auto records = h.FlushAll();
  REQUIRE(records.size() == 1);
  CHECK(records[0].data == "\na\n\n");
  CHECK(records[0].user_records == 3);
}

TEST_CASE("Packer clamps max_record_bytes to Firehose's limit", "[firehose]") {
  Harness h(Limit(10 * kMaxRecordBytes));
  std::vector<std::string> lines(3, std::string(600 * 1024, 'q'));
  h.Send(1, 0, lines);
  auto records = h.FlushAll();
  REQUIRE(records.size() == 3);  // two would make 1,200 KiB
  for (const auto& r : records) CHECK(r.data.size() <= kMaxRecordBytes);
}

TEST_CASE("Packed bytes are charged to the budget and given back, acknowledged or not", "[firehose]") {
  Harness h;
  {
    h.Send(1, 0, {std::string(1000, 'a')});
    h.Send(2, 0, {std::string(1000, 'b')});
    std::size_t sources = h.budget.used();
    auto records = h.FlushAll();
    REQUIRE(records.size() == 1);
    CHECK(h.budget.used() >= sources + 2002);  // the holder's copy
    h.requests.clear();                        // given up unacknowledged, as a drain that timed out does
  }
  CHECK(h.sink.calls.empty());  // nothing acknowledged...
  CHECK(h.budget.used() == 0);  // ...and nothing kept: holder and source batches are freed
}

TEST_CASE("Packer releases an open pack unacknowledged when it is destroyed", "[firehose]") {
  RecordingSink sink;
  MemoryBudget budget(1 << 20);
  {
    Harness h;
    BatchRef batch(new Batch(1, 0, &sink, 256, &budget));
    batch->records().push_back(Record{batch->arena().Copy("pending"), 8});
    batch->set_end_offset(8);
    batch->Seal();
    h.packer().Accept(std::move(batch));
    CHECK(h.packer().open_records() == 1);
  }
  CHECK(sink.calls.empty());
  CHECK(budget.used() == 0);
}

}  // namespace
}  // namespace ferry::firehose
