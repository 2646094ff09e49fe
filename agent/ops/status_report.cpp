// StatusReport: writes the status document with RapidJSON's writer (no DOM is built).
#include "agent/ops/status_report.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ferry {

std::string StatusJson(const DaemonFacts& daemon, const std::vector<const Flow*>& flows) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto key = [&w](std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); };
  auto string = [&w](std::string_view v) { w.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); };
  w.StartObject();
  key("ferry");
  string(daemon.version);
  key("pid");
  w.Int64(daemon.pid);
  key("uptime_seconds");
  w.Double(daemon.uptime_seconds);
  if (!daemon.credentials_provider.empty()) {
    key("aws");
    w.StartObject();
    key("region");
    string(daemon.region);
    key("credentials");
    string(daemon.credentials_provider);
    key("access_key");
    string(daemon.access_key_masked);
    if (daemon.credentials_expire_in_s) {
      key("expire_in_s");
      w.Int64(*daemon.credentials_expire_in_s);
    }
    key("refreshes");
    w.Uint64(daemon.credential_refreshes);
    key("refresh_failures");
    w.Uint64(daemon.credential_refresh_failures);
    w.EndObject();
  }
  key("flows");
  w.StartArray();
  for (const auto& flow : flows) {
    w.StartObject();
    key("name");
    string(flow->name());
    key("counters");
    w.StartObject();
    for (const auto& [name, value] : flow->Counters()) {
      key(name);
      w.Uint64(value);
    }
    w.EndObject();
    key("errors");
    w.StartObject();
    for (const auto& [code, count] : flow->Errors()) {
      key(code);
      w.Uint64(count);
    }
    w.EndObject();
    key("plugins");
    w.StartArray();
    const PluginChain& chain = flow->plugins();
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const PluginCounters& c = chain.counters(i);
      w.StartObject();
      key("name");
      string(chain.name(i));
      for (auto [name, value] : {std::pair<std::string_view, std::uint64_t>{"records_in", c.records_in},
                                 {"records_out", c.records_out},
                                 {"replaced", c.replaced},
                                 {"dropped", c.dropped},
                                 {"errored", c.errored},
                                 {"dead_lettered", c.dead_lettered},
                                 {"time_us", c.time_us}}) {
        key(name);
        w.Uint64(value);
      }
      chain.plugin(i).VisitCounters([&](std::string_view name, std::uint64_t value) {
        key(name);
        w.Uint64(value);
      });
      w.EndObject();
    }
    w.EndArray();
    key("files");
    w.StartArray();
    for (const auto& f : flow->Files()) {
      w.StartObject();
      key("path");
      string(f.path);
      for (auto [name, value] : {std::pair<std::string_view, std::uint64_t>{"offset", f.offset},
                                 {"size", f.size},
                                 {"committed", f.committed},
                                 {"bytes_behind", f.bytes_behind()},
                                 {"bytes_read", f.figures.bytes_read},
                                 {"lines", f.figures.records},
                                 {"oversize", f.figures.oversize_records},
                                 {"rotations", f.figures.rotations},
                                 {"nul_records", f.figures.nul_records},
                                 {"invalid_utf8_records", f.figures.invalid_utf8_records}}) {
        key(name);
        w.Uint64(value);
      }
      key("open");
      w.Bool(f.open);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace ferry
