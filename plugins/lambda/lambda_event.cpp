// LambdaEvent: the fixed part of the event written once with RapidJSON (it escapes the ARN and the
// region); records appended by hand, since ids, numbers and base64 need no escaping.
#include "plugins/lambda/lambda_event.h"

#include <rapidjson/writer.h>

#include <fmt/format.h>

#include "agent/aws/json_body.h"

namespace ferry::plugins {
namespace {

constexpr std::string_view kRecordId = "{\"recordId\":\"";
constexpr std::string_view kArrival = "\",\"approximateArrivalTimestamp\":";
constexpr std::string_view kData = ",\"data\":\"";
constexpr std::string_view kRecordEnd = "\"}";

std::size_t Digits(std::uint64_t n) {
  std::size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

std::size_t SignedDigits(std::int64_t n) {
  return n < 0 ? 1 + Digits(0 - static_cast<std::uint64_t>(n)) : Digits(static_cast<std::uint64_t>(n));
}

}  // namespace

LambdaEventWriter::LambdaEventWriter(std::string_view delivery_stream_arn, std::string_view region) {
  // Written as an object's members and cut out of it: `,"deliveryStreamArn":"...","region":"..."`.
  std::string members;
  aws::StringOut out(members);
  rapidjson::Writer<aws::StringOut> w(out);
  w.StartObject();
  w.Key("deliveryStreamArn");
  w.String(delivery_stream_arn.data(), static_cast<rapidjson::SizeType>(delivery_stream_arn.size()));
  w.Key("region");
  w.String(region.data(), static_cast<rapidjson::SizeType>(region.size()));
  w.EndObject();
  head_ = "\",";
  head_.append(members, 1, members.size() - 2);
  head_ += ",\"records\":[";
}

std::size_t LambdaEventWriter::RecordBytes(std::size_t index, std::int64_t arrival_ms,
                                           std::size_t data_bytes) {
  return (index > 0 ? 1 : 0) + kRecordId.size() + Digits(index) + kArrival.size() + SignedDigits(arrival_ms) +
         kData.size() + aws::Base64Size(data_bytes) + kRecordEnd.size();
}

void LambdaEventWriter::Write(std::string& out, std::string_view invocation_id, std::int64_t arrival_ms,
                              std::span<const Record> records) const {
  std::size_t bytes = EmptyBytes();
  for (std::size_t i = 0; i < records.size(); ++i)
    bytes += RecordBytes(i, arrival_ms, records[i].data.size());
  out.reserve(out.size() + bytes);
  out += "{\"invocationId\":\"";
  out += invocation_id;
  out += head_;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += kRecordId;
    fmt::format_to(std::back_inserter(out), "{}", i);
    out += kArrival;
    fmt::format_to(std::back_inserter(out), "{}", arrival_ms);
    out += kData;
    aws::AppendBase64(out, records[i].data);
    out += kRecordEnd;
  }
  out += kTail;
}

}  // namespace ferry::plugins
