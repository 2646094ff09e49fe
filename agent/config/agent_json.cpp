// AgentJson: the agent's keys, global and per flow, each converted into ferry.yaml, warned about or refused;
// then the converted text parsed by ferry's own parser, its errors placed back in the agent.json.
#include "agent/config/agent_json.h"

#include <set>

#include <fmt/format.h>

#include "agent/config/agent_json_context.h"
#include "agent/config/agent_json_keys.h"
#include "agent/config/agent_processing_options.h"
#include "agent/core/units.h"

namespace ferry::config {
namespace {

// text fit for a YAML comment: a control character (a line break in a file name) becomes '?'.
std::string CommentText(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return out;
}

class Converter {
 public:
  Converter(std::string_view text, const std::string& source) : ctx_(text, source), source_(source) {}

  Result<AgentJsonConversion> Run(const JsonValue& root) {
    if (!ctx_.CheckObject(root, "(document)")) return Failed();
    for (std::size_t i = 0; i < root.keys.size(); ++i) Global(root.keys[i], root.items[i]);
    const JsonValue* flows = FindMember(root, "flows");
    if (flows == nullptr) {
      ctx_.Fail(root, "flows", "missing required key: the agent.json has no flows");
    } else if (!flows->IsArray() || flows->items.empty()) {
      ctx_.Fail(*flows, "flows",
                fmt::format("expected a non-empty list of flows, found {}",
                            flows->IsArray() ? "an empty list" : JsonTypeName(flows->type)));
    } else {
      for (std::size_t i = 0; i < flows->items.size(); ++i) Flow(flows->items[i], i);
    }
    Requires(root, "awsSecretAccessKey", "awsAccessKeyId");
    Requires(root, "awsAccessKeyId", "awsSecretAccessKey");
    Requires(root, "assumeRoleExternalId", "assumeRoleARN");
    if (!ctx_.errors().empty()) return Failed();
    AgentJsonConversion out;
    out.yaml = Assemble();
    out.warnings = std::move(ctx_.warnings());
    out.origins = std::move(ctx_.origins());
    return out;
  }

 private:
  Error Failed() const {
    std::string all;
    for (const auto& e : ctx_.errors()) all += (all.empty() ? "" : "\n") + e;
    return Error(ErrorCode::kInvalidArgument, all);
  }

  // A key that means nothing without another (the agent ignores it then; it is a mistake in the file).
  void Requires(const JsonValue& root, std::string_view needed, std::string_view by) {
    const JsonValue* given = FindMember(root, by);
    const JsonValue* other = FindMember(root, needed);
    auto set = [](const JsonValue* v) {
      return v != nullptr && !v->IsNull() && !(v->IsString() && v->text.empty());
    };
    if (set(given) && !set(other)) {
      ctx_.Fail(*given, by, fmt::format("{} is required with it", needed));
    }
  }

  void Note(const JsonValue& value, std::string_view key, std::string_view instead) {
    ctx_.Warn(value, key, key, instead);
  }

  void Global(const JsonKey& key, const JsonValue& value) {
    const std::string& name = key.name;
    std::string text;
    if (name == "flows") return;
    if (const UnusedKey* unused = FindUnusedGlobal(name)) {
      Note(value, name, unused->instead);
    } else if (name.starts_with("cloudwatch.")) {
      bool emit = true;  // false asks for what ferry does anyway: no CloudWatch metrics
      if (name != "cloudwatch.emitMetrics" || !ctx_.ReadBool(value, name, emit) || emit) {
        Note(value, name, kCloudWatchInstead);
      }
    } else if (name == "awsAccessKeyId" || name == "awsSecretAccessKey" || name == "assumeRoleARN" ||
               name == "assumeRoleExternalId") {
      static const std::map<std::string_view, std::string_view> kAws = {
          {"awsAccessKeyId", "access_key_id"},
          {"awsSecretAccessKey", "secret_access_key"},
          {"assumeRoleARN", "role_arn"},
          {"assumeRoleExternalId", "external_id"}};
      if (!ctx_.ReadNonEmptyText(value, name, text)) return;
      Aws(std::string(kAws.at(name)), YamlQuote(text), value, name, name);
    } else if (name == "kinesis.endpoint" || name == "firehose.endpoint" || name == "sts.endpoint") {
      if (!ctx_.ReadNonEmptyText(value, name, text)) return;
      const std::string url = EndpointUrl(text);
      const std::string service = name.substr(0, name.find('.'));
      Aws(service + "_endpoint", YamlQuote(url), value, name,
          url == text ? name : fmt::format("{} (a host name alone: https)", name));
      if (service != "sts" && region_from_endpoint_.empty()) region_from_endpoint_ = RegionOf(url);
    } else if (name == "kinesis.region") {
      if (!ctx_.ReadNonEmptyText(value, name, text)) return;
      region_ = text;
      Aws("region", YamlQuote(text), value, name, name);
    } else if (name == "shutdownTimeoutMillis") {
      std::int64_t ms = 0;
      if (!ctx_.ReadInteger(value, name, 0, std::int64_t{1} << 40, ms)) return;
      Top("shutdown_timeout", FormatDuration(Duration(ms)), value, name, name);
    } else if (name == "log.level") {
      static const std::map<std::string_view, std::string_view> kLevels = {
          {"TRACE", "trace"}, {"DEBUG", "debug"}, {"INFO", "info"}, {"WARN", "warn"}, {"ERROR", "error"}};
      if (!ctx_.ReadWord(value, name, {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"}, text)) return;
      Top("log_level", std::string(kLevels.at(text)), value, name, fmt::format("log.level: {}", text));
    } else if (name == "connectionTimeoutMillis") {
      std::int64_t ms = 0;
      if (!ctx_.ReadInteger(value, name, 0, std::int64_t{1} << 31, ms)) return;
      const std::int64_t clamped = std::clamp<std::int64_t>(ms, 100, 300000);
      if (clamped != ms) {
        Note(value, name,
             fmt::format("ferry's connect timeout is 100ms to 5m: {} is used",
                         FormatDuration(Duration(clamped))));
      }
      Aws("connect_timeout", FormatDuration(Duration(clamped)), value, name, name);
    } else {
      ctx_.FailAt(
          key.offset, name,
          fmt::format("unknown key: not one of the Kinesis Agent's keys{}", UnknownKeyHint(name, false)));
    }
  }

  void Top(const std::string& key, const std::string& value, const JsonValue& from,
           std::string_view agent_key, std::string_view comment) {
    top_ += YamlLine(0, fmt::format("{}: {}", key, value), comment);
    ctx_.Origin(key, from, agent_key);
  }

  void Aws(const std::string& key, const std::string& value, const JsonValue& from,
           std::string_view agent_key, std::string_view comment) {
    aws_ += YamlLine(2, fmt::format("{}: {}", key, value), comment);
    ctx_.Origin("aws." + key, from, agent_key);
  }

  // The flow's name: agent flows have none, and ferry keeps checkpoints and the spool by name.
  std::string FlowName(const std::string& destination) {
    std::string name = destination;
    for (int n = 2; !names_.insert(name).second; ++n) name = fmt::format("{}-{}", destination, n);
    return name;
  }

  void Flow(const JsonValue& flow, std::size_t index);

  // A stream's name: a non-empty string.
  bool ReadName(const JsonValue& value, const std::string& key, std::string& out) {
    if (!ctx_.ReadText(value, key, out)) return false;
    if (out.empty()) ctx_.Fail(value, key, "must not be empty");
    return !out.empty();
  }

  std::string Assemble() {
    std::string out = fmt::format(
        "# ferry.yaml converted from the Kinesis Agent config {} (ferry check --convert).\n"
        "# Each key's comment names the agent.json key it came from.\n",
        CommentText(source_));
    if (!ctx_.warnings().empty()) {
      out += "#\n# agent.json keys ferry does not use, or does differently:\n";
      for (const auto& note : ctx_.warnings()) out += "#   " + CommentText(note) + "\n";
      out += "#\n";
    }
    out += top_;
    std::string aws = aws_;
    if (region_.empty() && !region_from_endpoint_.empty()) {
      aws = YamlLine(2, fmt::format("region: {}", region_from_endpoint_), "the region of the endpoint") + aws;
    }
    if (!aws.empty()) out += "aws:\n" + aws;
    out += "flows:\n" + flows_;
    return out;
  }

  AgentJsonContext ctx_;
  std::string source_;
  std::string top_;
  std::string aws_;
  std::string flows_;
  std::string region_;
  std::string region_from_endpoint_;
  std::set<std::string> names_;
};

void Converter::Flow(const JsonValue& flow, std::size_t index) {
  const std::string agent = fmt::format("flows[{}]", index);
  const std::string ferry = agent;  // one ferry flow per agent flow, in the same order
  if (!ctx_.CheckObject(flow, agent)) return;
  auto key = [&agent](std::string_view name) { return fmt::format("{}.{}", agent, name); };
  auto member = [&flow](std::string_view name) { return FindMember(flow, name); };

  // The destination decides the ranges of other keys, so it comes first.
  const JsonValue* kinesis = member("kinesisStream");
  const JsonValue* firehose = member("deliveryStream");
  std::string stream;
  bool is_firehose = false;
  if (firehose != nullptr && !firehose->IsNull()) {
    is_firehose = true;
    if (!ReadName(*firehose, key("deliveryStream"), stream)) return;
    if (kinesis != nullptr && !kinesis->IsNull()) {
      ctx_.Fail(*kinesis, key("kinesisStream"),
                "a flow has one destination: deliveryStream is given too (the agent sends to the delivery "
                "stream alone; make two flows to send the same files to both)");
      return;
    }
  } else if (kinesis != nullptr && !kinesis->IsNull()) {
    if (!ReadName(*kinesis, key("kinesisStream"), stream)) return;
  } else {
    // Reported, and the flow's other keys still checked, so one pass shows every error.
    ctx_.Fail(flow, agent, "needs a destination: kinesisStream or deliveryStream");
  }
  const JsonValue& destination = is_firehose ? *firehose : kinesis != nullptr ? *kinesis : flow;
  const std::string destination_key = key(is_firehose ? "deliveryStream" : "kinesisStream");
  const std::string section = is_firehose ? "firehose" : "kinesis";

  std::string head;  // the flow's own keys
  std::string dest;  // its destination section's keys
  std::string plugins;
  auto flow_line = [&](const std::string& k, const std::string& v, const JsonValue& from,
                       std::string_view agent_key, std::string_view comment) {
    head += YamlLine(4, fmt::format("{}: {}", k, v), comment);
    ctx_.Origin(fmt::format("{}.{}", ferry, k), from, key(agent_key));
  };
  auto dest_line = [&](const std::string& k, const std::string& v, const JsonValue& from,
                       std::string_view agent_key, std::string_view comment) {
    dest += YamlLine(6, fmt::format("{}: {}", k, v), comment);
    ctx_.Origin(fmt::format("{}.{}.{}", ferry, section, k), from, key(agent_key));
  };

  const std::string name = FlowName(stream);
  ctx_.Origin(ferry + ".name", destination, destination_key);
  ctx_.Origin(ferry, flow, agent);
  dest_line(is_firehose ? "delivery_stream" : "stream", YamlQuote(stream), destination,
            is_firehose ? "deliveryStream" : "kinesisStream",
            is_firehose ? "deliveryStream" : "kinesisStream");

  const JsonValue* pattern = member("filePattern");
  std::string text;
  if (pattern == nullptr || pattern->IsNull()) {
    ctx_.Fail(flow, key("filePattern"), "missing required key (the files to tail, a glob)");
  } else if (ctx_.ReadText(*pattern, key("filePattern"), text)) {
    if (text.empty() || text.back() == '/' || text.find('/') == std::string::npos) {
      ctx_.Fail(*pattern, key("filePattern"), "needs a folder and a file name pattern, as /var/log/app.log*");
    } else {
      flow_line("files", "[" + YamlQuote(text) + "]", *pattern, "filePattern", "filePattern");
    }
  }

  bool pack_given = false;
  for (std::size_t i = 0; i < flow.keys.size(); ++i) {
    const std::string& k = flow.keys[i].name;
    const JsonValue& v = flow.items[i];
    std::int64_t n = 0;
    if (k == "filePattern" || k == "kinesisStream" || k == "deliveryStream" || k == "dataProcessingOptions") {
      continue;
    } else if (k == "initialPosition") {
      if (ctx_.ReadWord(v, key(k), {"START_OF_FILE", "END_OF_FILE"}, text)) {
        flow_line("start_at", text == "START_OF_FILE" ? "beginning" : "end", v, k,
                  fmt::format("initialPosition: {}", text));
      }
    } else if (k == "maxBufferAgeMillis") {
      if (ctx_.ReadInteger(v, key(k), 1000, 900000, n)) {
        dest_line("max_age", FormatDuration(Duration(n)), v, k, k);
      }
    } else if (k == "maxBufferSizeRecords") {
      if (ctx_.ReadInteger(v, key(k), 1, 500, n)) ctx_.Warn(v, key(k), k, kBufferInstead);
    } else if (k == "maxBufferSizeBytes") {
      if (ctx_.ReadInteger(v, key(k), 1, is_firehose ? 4 << 20 : 5 << 20, n))
        ctx_.Warn(v, key(k), k, kBufferInstead);
    } else if (k == "multiLineStartPattern") {
      if (ctx_.ReadNonEmptyText(v, key(k), text)) {
        head += YamlLine(4, "multiline:");
        // The agent matches with Java's lookingAt(): at the start of the line.
        head += YamlLine(6, "start: " + YamlQuote("^(?:" + text + ")"),
                         "multiLineStartPattern, anchored at the line's start as the agent matches it");
        ctx_.Origin(ferry + ".multiline", v, key(k));
      }
    } else if (k == "skipHeaderLines") {
      if (ctx_.ReadInteger(v, key(k), 0, 1'000'000, n))
        flow_line("skip_header_lines", std::to_string(n), v, k, k);
    } else if (k == "truncatedRecordTerminator") {
      if (ctx_.ReadText(v, key(k), text)) {
        if (text.empty()) {
          ctx_.Fail(v, key(k), "must not be empty (the agent refuses an empty terminator)");
          continue;
        }
        flow_line("oversize", "truncate", v, k, "truncatedRecordTerminator: records over the limit are cut");
        if (text != "\n") {
          ctx_.Warn(v, key(k), k,
                    "ferry cuts a record over max_record_bytes and ends it with a newline like every other "
                    "record (kinesis.record_newline; Firehose records always end with one), not with this "
                    "terminator; `ferry status` counts them");
        }
      }
    } else if (k == "partitionKeyOption") {
      if (!ctx_.ReadWord(v, key(k), {"RANDOM", "DETERMINISTIC"}, text)) continue;
      if (is_firehose) {
        ctx_.Warn(v, key(k), k, "ignored for a deliveryStream flow, as by the agent");
      } else if (text == "RANDOM") {
        dest_line("partition_key", "random", v, k, "partitionKeyOption: RANDOM");
      } else {
        dest_line("partition_key", "data_md5", v, k,
                  "partitionKeyOption: DETERMINISTIC (the MD5 of the record)");
      }
    } else if (k == "aggregatedRecordSizeBytes") {
      if (!ctx_.ReadInteger(v, key(k), 0, 1000 << 10, n)) continue;
      if (!is_firehose) {
        ctx_.Warn(v, key(k), k,
                  "ignored for a kinesisStream flow, as by the agent (ferry's KPL aggregation is "
                  "kinesis.aggregate)");
        continue;
      }
      pack_given = true;
      if (n == 0) {
        dest_line("pack", "false", v, k, "aggregatedRecordSizeBytes: 0, one line per record");
      } else {
        if (n < 1024) {
          ctx_.Warn(v, key(k), k, "ferry packs records of at least 1KiB: 1KiB is used");
          n = 1024;
        }
        dest_line("pack", "true", v, k, "aggregatedRecordSizeBytes: lines joined into records");
        dest_line("pack_max_bytes", FormatByteSize(static_cast<std::uint64_t>(n)), v, k,
                  "aggregatedRecordSizeBytes");
      }
    } else if (k == "fileFooterPattern") {
      if (ctx_.ReadNonEmptyText(v, key(k), text)) {
        ctx_.Fail(v, key(k),
                  "not mapped yet: ferry reads every line of a file; it has no footer that ends a file's "
                  "reading");
      }
    } else if (const UnusedKey* unused = FindUnusedFlowKey(k)) {
      ctx_.Warn(v, key(k), k, unused->instead);
    } else {
      ctx_.FailAt(
          flow.keys[i].offset, key(k),
          fmt::format("unknown key: not one of the Kinesis Agent's flow keys{}", UnknownKeyHint(k, true)));
    }
  }
  if (const JsonValue* options = member("dataProcessingOptions")) {
    ConvertProcessingOptions(*options, agent, ferry, ctx_, plugins);
  }
  // What reaches the destination is what the agent sent: one record per line. ferry's packing changes the
  // records consumers see, so it is left for the user to turn on.
  if (is_firehose && !pack_given) {
    dest += YamlLine(6, "pack: false",
                     "the agent sends one line per record; true joins lines into records of up to 1000KiB");
  }
  if (!is_firehose) {
    dest +=
        YamlLine(6, "aggregate: false",
                 "the agent sends one record per line; true: KPL aggregation (consumers must deaggregate)");
    dest += YamlLine(6, "record_newline: true", "the agent's records end with the line's newline");
  }
  flows_ += YamlLine(
      2, "- name: " + YamlQuote(name),
      fmt::format("{}: {} (agent flows have no name)", agent, destination_key.substr(agent.size() + 1)));
  flows_ += head + plugins + YamlLine(4, section + ":") + dest;
}

}  // namespace

bool LooksLikeAgentJson(std::string_view text) {
  std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (text.substr(i).starts_with("//")) {
      i = std::min(text.find('\n', i), text.size());
    } else if (text.substr(i).starts_with("/*")) {
      const std::size_t end = text.find("*/", i + 2);
      if (end == std::string_view::npos) return true;  // an unclosed comment: the JSON reader says so
      i = end + 2;
    } else {
      return c == '{';
    }
  }
  return false;
}

namespace {

constexpr std::string_view kConverted = "(converted)";

// The origin ("file:line:col: agent key") of ferry_path or of its nearest parent that has one.
const std::string* OriginOf(const std::map<std::string, std::string, std::less<>>& origins,
                            std::string_view ferry_path) {
  for (std::string_view path = ferry_path; !path.empty();) {
    if (auto it = origins.find(path); it != origins.end()) return &it->second;
    const std::size_t cut = path.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    path = path.substr(0, cut);
  }
  return nullptr;
}

// An error of ferry's parser about the converted text ("(converted):12:7: flows[0].files: ..."), placed at
// the agent.json key the ferry key came from.
std::string PlaceError(const AgentJsonConversion& conversion, const std::string& source,
                       std::string_view line) {
  if (!line.starts_with(kConverted)) return std::string(line);
  std::string_view rest = line.substr(kConverted.size());
  if (rest.starts_with(":")) rest.remove_prefix(1);
  // Skip "line:column:" when present.
  const std::size_t digits = rest.find_first_not_of("0123456789:");
  if (digits != std::string_view::npos && digits > 0 && rest[digits] == ' ') rest = rest.substr(digits);
  if (rest.starts_with(" ")) rest.remove_prefix(1);
  const std::size_t colon = rest.find(": ");
  const std::string_view path = colon == std::string_view::npos ? rest : rest.substr(0, colon);
  const std::string_view message = colon == std::string_view::npos ? "" : rest.substr(colon + 2);
  if (const std::string* origin = OriginOf(conversion.origins, path)) {
    return fmt::format("{}: {} (ferry's {})", *origin, message, path);
  }
  return fmt::format("{}: {} (in the converted config): {}", source, path, message);
}

}  // namespace

Result<AgentJsonConversion> ConvertAgentJson(std::string_view text, const std::string& source_name) {
  auto root = ParseLocatedJson(text);
  if (!root)
    return Error(ErrorCode::kInvalidArgument, fmt::format("{}:{}", source_name, root.error().message()));
  return Converter(text, source_name).Run(*root);
}

Result<Config> ParseAgentJson(std::string_view text, const std::string& source_name) {
  auto conversion = ConvertAgentJson(text, source_name);
  if (!conversion) return conversion.error();
  auto config = ParseConfig(conversion->yaml, std::string(kConverted));
  if (!config) {
    std::string all;
    const std::string& message = config.error().message();
    for (std::size_t from = 0; from < message.size();) {
      const std::size_t end = std::min(message.find('\n', from), message.size());
      all += (all.empty() ? "" : "\n") +
             PlaceError(*conversion, source_name, std::string_view(message).substr(from, end - from));
      from = end + 1;
    }
    return Error(ErrorCode::kInvalidArgument, all);
  }
  config->file = source_name;
  config->warnings = std::move(conversion->warnings);
  // Locations point into the agent.json: "file:line:col" of the agent key each ferry key came from.
  std::map<std::string, std::string, std::less<>> locations;
  for (const auto& [path, where] : config->locations) {
    if (const std::string* origin = OriginOf(conversion->origins, path)) {
      locations[path] = origin->substr(0, origin->rfind(": "));
    }
  }
  config->locations = std::move(locations);
  // Plugins are made (and may fail) after parsing: their errors name the processing option they came from.
  for (auto& flow : config->flows) {
    for (auto& spec : flow.plugins) {
      if (const std::string* origin = OriginOf(conversion->origins, spec.path)) {
        const std::size_t cut = origin->rfind(": ");
        spec.location = origin->substr(0, cut);
        spec.path = origin->substr(cut + 2);
      }
    }
  }
  return config;
}

}  // namespace ferry::config
