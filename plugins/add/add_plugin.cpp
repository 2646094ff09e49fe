// AddPlugin: renders what it adds once per batch (the file and the read time are the batch's), then writes
// each record once into its replacement buffer: the record's bytes up to its closing brace, the members,
// the brace and whatever followed it; or the pairs, a space and the record. Only the record id differs
// from record to record. Decides synchronously.
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/add/add_plugin.h"
#include "plugins/add/escaped_text.h"
#include "plugins/add/json_object_check.h"
#include "plugins/add/record_stamp.h"

namespace ferry::plugins {
namespace {

class AddPlugin final : public Plugin {
 public:
  AddPlugin(const AddOptions& options, const PluginEnv& env)
      : options_(options),
        hostname_(env.hostname),
        flow_(env.flow),
        clock_(env.clock),
        keys_(KeysOf(options)),
        check_(keys_) {}

  void Process(PluginBatch& work) override {
    PrepareBatch(work.batch());
    const std::span<const Record> records = work.records();
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      JsonObjectShape shape;
      if (options_.as == AddAs::kText) {
        AddPairs(work, i, r);
      } else if (options_.as == AddAs::kAuto) {
        if (check_.Check(r.data, shape)) {
          AddMembers(work, i, r, shape);
        } else {
          AddPairs(work, i, r);
        }
      } else {
        std::string why;
        if (check_.Check(r.data, shape, &why)) {
          AddMembers(work, i, r, shape);
        } else {
          work.Fail(i, std::move(why));
        }
      }
    }
    work.Done();
  }

 private:
  static std::vector<std::string> KeysOf(const AddOptions& o) {
    std::vector<std::string> keys;
    for (const auto& f : o.fields) keys.push_back(f.key);
    if (!o.timestamp.empty()) keys.push_back(o.timestamp);
    if (!o.record_id.empty()) keys.push_back(o.record_id);
    return keys;
  }

  // keys_ order: fields, then timestamp; members_[k] is `"key":"value"` and pairs_ their logfmt form.
  void PrepareBatch(const Batch& batch) {
    const std::size_t n = options_.fields.size() + (options_.timestamp.empty() ? 0 : 1);
    members_.resize(n);
    object_tail_.clear();
    pairs_.clear();
    for (std::size_t k = 0; k < n; ++k) {
      value_.clear();
      std::string_view key;
      if (k < options_.fields.size()) {
        key = options_.fields[k].key;
        options_.fields[k].value.AppendTo(value_, hostname_, flow_, batch.origin());
      } else {
        key = options_.timestamp;
        char iso[kIsoMillisLength];
        const std::int64_t ms =
            batch.read_time_ms() != 0 ? batch.read_time_ms() : clock_.UnixSeconds() * 1000;
        FormatIsoMillis(ms, iso);
        value_.assign(iso, sizeof iso);
      }
      std::string& m = members_[k];
      m.clear();
      m += '"';
      m += key;
      m += "\":\"";
      AppendJsonStringBody(m, value_);
      m += '"';
      if (k != 0) object_tail_ += ',';
      object_tail_ += m;
      if (k != 0) pairs_ += ' ';
      pairs_ += key;
      pairs_ += '=';
      AppendLogfmtValue(pairs_, value_);
    }
    with_id_ = !options_.record_id.empty() && batch.file_id() != 0;
    file_id_ = batch.file_id();
  }

  void AddMembers(PluginBatch& work, std::size_t i, const Record& r, const JsonObjectShape& shape) {
    std::string_view tail = object_tail_;
    bool with_id = with_id_;
    if (shape.present != 0) {
      if (options_.if_present == AddIfPresent::kFail) {
        work.Fail(i, "the record already has the key '" + FirstPresentKey(shape.present) + "'");
        return;
      }
      scratch_.clear();
      for (std::size_t k = 0; k < members_.size(); ++k) {
        if ((shape.present >> k & 1) != 0) continue;
        if (!scratch_.empty()) scratch_ += ',';
        scratch_ += members_[k];
      }
      tail = scratch_;
      if (with_id && (shape.present >> members_.size() & 1) != 0) with_id = false;
    }
    if (tail.empty() && !with_id) {
      work.Keep(i);
      return;
    }
    const std::string_view id_key = options_.record_id;
    const std::size_t id_size = with_id ? id_key.size() + 5 + kRecordIdLength + (tail.empty() ? 0 : 1) : 0;
    const std::size_t added = (shape.has_members ? 1 : 0) + tail.size() + id_size;
    const std::string_view data = r.data;
    std::span<char> out = work.ReplaceBuffer(i, data.size() + added);
    if (out.empty()) return;  // misuse, reported by the chain
    char* p = out.data();
    auto put = [&p](std::string_view s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    put(data.substr(0, shape.close));
    if (shape.has_members) *p++ = ',';
    put(tail);
    if (with_id) {
      if (!tail.empty()) *p++ = ',';
      *p++ = '"';
      put(id_key);
      put("\":\"");
      char id[kRecordIdLength];
      FormatRecordId(file_id_, r.end_offset, id);
      put({id, sizeof id});
      *p++ = '"';
    }
    put(data.substr(shape.close));
  }

  void AddPairs(PluginBatch& work, std::size_t i, const Record& r) {
    if (pairs_.empty() && !with_id_) {
      work.Keep(i);
      return;
    }
    const std::string_view id_key = options_.record_id;
    const std::size_t id_size = with_id_ ? (pairs_.empty() ? 0 : 1) + id_key.size() + 1 + kRecordIdLength : 0;
    const std::string_view data = r.data;
    const std::size_t size = pairs_.size() + id_size + (data.empty() ? 0 : 1 + data.size());
    std::span<char> out = work.ReplaceBuffer(i, size);
    if (out.empty()) return;
    char* p = out.data();
    auto put = [&p](std::string_view s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    put(pairs_);
    if (with_id_) {
      if (!pairs_.empty()) *p++ = ' ';
      put(id_key);
      *p++ = '=';
      char id[kRecordIdLength];
      FormatRecordId(file_id_, r.end_offset, id);
      put({id, sizeof id});
    }
    if (!data.empty()) {
      *p++ = ' ';
      put(data);
    }
  }

  std::string FirstPresentKey(std::uint64_t present) const {
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      if ((present >> k & 1) != 0) return keys_[k];
    }
    return {};
  }

  AddOptions options_;
  std::string hostname_;
  std::string flow_;
  const Clock& clock_;
  std::vector<std::string> keys_;  // fields, timestamp, record_id: bit k of JsonObjectShape::present
  JsonObjectCheck check_;
  // Rendered per batch; their capacity stays, so a batch allocates nothing once they have grown.
  std::vector<std::string> members_;
  std::string object_tail_;  // members_ joined by ','
  std::string pairs_;        // key=value pairs joined by ' '
  std::string value_;
  std::string scratch_;
  bool with_id_ = false;
  std::uint64_t file_id_ = 0;
};

}  // namespace

Result<std::unique_ptr<Plugin>> MakeAddPlugin(const AddOptions& options, const PluginEnv& env) {
  if (options.fields.empty() && options.timestamp.empty() && options.record_id.empty()) {
    return Error(ErrorCode::kInvalidArgument, "add: nothing to add: give fields, timestamp or record_id");
  }
  return std::unique_ptr<Plugin>(std::make_unique<AddPlugin>(options, env));
}

}  // namespace ferry::plugins
