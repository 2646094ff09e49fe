// DestinationFields: the field tables of a flow's destination sections, `kinesis` and `firehose`.
#include "agent/config/destination_fields.h"

#include <optional>

#include <fmt/format.h>

#include "agent/kinesis/partition_key_policy.h"

namespace ferry::config {
namespace {

template <typename S>
Field<S> CompressionField(Compression S::*member, std::string_view doc) {
  return EnumField<S, Compression>(
      "compression", member,
      {{"none", Compression::kNone}, {"gzip", Compression::kGzip}, {"zstd", Compression::kZstd}},
      "none | gzip | zstd", doc);
}

// Checks a key policy the way the packer will build it, so `ferry check` reports what the flow would.
std::optional<std::string> KeyPolicyProblem(const PartitionKeyOptions& key,
                                            const std::string& explicit_hash_key) {
  kinesis::PartitionKeySpec spec;
  static_cast<PartitionKeyOptions&>(spec) = key;
  spec.explicit_hash_key = explicit_hash_key;
  auto policy = kinesis::PartitionKeyPolicy::Create(spec, kinesis::KeyContext{"host", "flow"});
  if (!policy) return policy.error().message();
  return std::nullopt;
}

// partition_key: `random`, a fixed key or template (${hostname} ${flow} ${file}), or a map with `field` (a
// dotted path in a JSON record) or `regex` (one capture), and an optional `fallback`.
Field<KinesisOptions> PartitionKeyField() {
  using Kind = PartitionKeyOptions::Kind;
  return Field<KinesisOptions>{
      "partition_key",
      "random | data_md5 | template | {field|regex, fallback}",
      "random",
      "random per record; data_md5: the MD5 of the record's bytes (equal records share a shard; the "
      "Kinesis Agent's DETERMINISTIC); a fixed key or template with ${hostname} ${flow} ${file}; or "
      "{field: a.b} of a JSON record, or {regex: '(...)'}, with a fallback (default random) when it is "
      "missing",
      false,
      [](const YAML::Node& n, const std::string& p, KinesisOptions& out, ParseContext& ctx) {
        PartitionKeyOptions key;
        if (n.IsScalar()) {
          if (!ReadString(n, p, ctx, key.text)) return;
          key.kind = key.text == "random"     ? Kind::kRandom
                     : key.text == "data_md5" ? Kind::kDataMd5
                                              : Kind::kTemplate;
        } else if (n.IsMap()) {
          int kinds = 0;
          for (const auto& entry : n) {
            auto name = entry.first.as<std::string>();
            std::string sub = JoinPath(p, name);
            if (name == "field" || name == "regex") {
              ++kinds;
              key.kind = name == "field" ? Kind::kJsonField : Kind::kRegex;
              if (!ReadString(entry.second, sub, ctx, key.text)) return;
            } else if (name == "fallback") {
              if (!ReadString(entry.second, sub, ctx, key.fallback)) return;
            } else {
              ctx.Fail(entry.first, sub, "unknown key (expected field, regex or fallback)");
              return;
            }
          }
          if (kinds != 1) {
            ctx.Fail(n, p, "needs exactly one of field or regex");
            return;
          }
        } else {
          ctx.Fail(n, p, "expected a string or a map with field or regex");
          return;
        }
        if (auto problem = KeyPolicyProblem(key, "")) {
          ctx.Fail(n, p, *problem);
          return;
        }
        out.partition_key = std::move(key);
      },
      [](YAML::Emitter& e, const KinesisOptions& in) {
        const PartitionKeyOptions& key = in.partition_key;
        e << YAML::Key << "partition_key" << YAML::Value;
        if (key.kind == Kind::kRandom) {
          e << "random";
        } else if (key.kind == Kind::kDataMd5) {
          e << "data_md5";
        } else if (key.kind == Kind::kTemplate) {
          e << YAML::DoubleQuoted << key.text;
        } else {
          e << YAML::BeginMap << YAML::Key << (key.kind == Kind::kJsonField ? "field" : "regex")
            << YAML::Value << YAML::SingleQuoted << key.text << YAML::Key << "fallback" << YAML::Value
            << YAML::DoubleQuoted << key.fallback << YAML::EndMap;
        }
      }};
}

}  // namespace

const std::vector<Field<KinesisOptions>>& KinesisFields() {
  static const std::vector<Field<KinesisOptions>> fields = {
      StringField<KinesisOptions>("stream", &KinesisOptions::stream, "", "name of the Kinesis data stream",
                                  true),
      DurationField<KinesisOptions>("max_age", &KinesisOptions::max_age,
                                    "longest time a record waits before its PutRecords request is sent"),
      PartitionKeyField(),
      Field<KinesisOptions>{
          "explicit_hash_key", "decimal 0..2^128-1", "",
          "sent with every record: all records go to the shard whose range holds it", false,
          [](const YAML::Node& n, const std::string& p, KinesisOptions& out, ParseContext& ctx) {
            std::string value;
            if (!ReadString(n, p, ctx, value)) return;
            if (auto problem = KeyPolicyProblem({}, value)) {
              ctx.Fail(n, p, *problem);
              return;
            }
            out.explicit_hash_key = std::move(value);
          },
          [](YAML::Emitter& e, const KinesisOptions& in) {
            if (!in.explicit_hash_key.empty())
              e << YAML::Key << "explicit_hash_key" << YAML::Value << YAML::DoubleQuoted
                << in.explicit_hash_key;
          }},
      BoolField<KinesisOptions>(
          "aggregate", &KinesisOptions::aggregate,
          "KPL aggregation: records packed per predicted shard into aggregated records"),
      ByteSizeField<KinesisOptions>(
          "aggregate_max_bytes", &KinesisOptions::aggregate_max_bytes, 1 << 10, 1 << 20,
          "largest aggregated record, with its partition key (at most 1MiB)", " (the Kinesis record limit)"),
      CountField<KinesisOptions>("aggregate_max_records", &KinesisOptions::aggregate_max_records, 2,
                                 1'000'000, "most user records in one aggregated record"),
      DurationField<KinesisOptions>("shard_map_refresh", &KinesisOptions::shard_map_refresh,
                                    "how often the shard map is listed again (also when a record lands on "
                                    "a shard it was not predicted for)"),
      EnumField<KinesisOptions, KinesisOptions::Protocol>(
          "protocol", &KinesisOptions::protocol,
          {{"auto", KinesisOptions::Protocol::kAuto},
           {"json", KinesisOptions::Protocol::kJson},
           {"cbor", KinesisOptions::Protocol::kCbor}},
          "auto | json | cbor",
          "PutRecords in CBOR 1.1 (data as bytes: less CPU, a quarter fewer bytes) or JSON 1.1 (data in "
          "base64); auto: CBOR at *.amazonaws.com(.cn), JSON at other endpoint URLs (emulators)"),
      CompressionField<KinesisOptions>(&KinesisOptions::compression,
                                       "each Kinesis record's data (an aggregate as a whole) compressed: "
                                       "consumers decompress before they deaggregate"),
      CountField<KinesisOptions>("rate_limit", &KinesisOptions::rate_limit, 0, 100,
                                 "percent of each shard's write limits (1MiB/s, 1000 records/s) a flow "
                                 "uses at most; 0 turns the limiter off"),
      ByteSizeField<KinesisOptions>("max_record_size", &KinesisOptions::max_record_size, 1 << 20, 10 << 20,
                                    "the stream's maximum record size (MaxRecordSize, 1MiB unless raised, at "
                                    "most 10MiB); above 1MiB requests may hold 10MiB",
                                    " (the stream's MaxRecordSize)"),
      BoolField<KinesisOptions>("one_request_per_shard", &KinesisOptions::one_request_per_shard,
                                "at most one request in flight per shard, so each shard keeps the order "
                                "records were read in"),
      BoolField<KinesisOptions>("record_newline", &KinesisOptions::record_newline,
                                "each record ends with a newline, inside aggregates too (as the Kinesis "
                                "Agent's did), so consumers that join records get lines; it counts against "
                                "the record limits"),
  };
  return fields;
}

const std::vector<Field<FirehoseOptions>>& FirehoseFields() {
  static const std::vector<Field<FirehoseOptions>> fields = {
      StringField<FirehoseOptions>("delivery_stream", &FirehoseOptions::delivery_stream, "",
                                   "name of the Firehose delivery stream", true),
      DurationField<FirehoseOptions>("max_age", &FirehoseOptions::max_age,
                                     "longest time a line waits before its PutRecordBatch request is sent"),
      BoolField<FirehoseOptions>("pack", &FirehoseOptions::pack,
                                 "lines joined, each with its newline, into records of up to pack_max_bytes "
                                 "(Firehose bills per record in 5KB steps); false: one line per record"),
      ByteSizeField<FirehoseOptions>("pack_max_bytes", &FirehoseOptions::pack_max_bytes, 1 << 10, 1000 << 10,
                                     "largest packed record (at most 1000KiB, the Firehose limit)"),
      CompressionField<FirehoseOptions>(&FirehoseOptions::compression,
                                        "each Firehose record compressed: an S3 object of gzip records is "
                                        "one valid .gz file (so is one of zstd records)"),
  };
  return fields;
}

}  // namespace ferry::config
