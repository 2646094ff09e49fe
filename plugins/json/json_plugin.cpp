// JsonPlugin: the `json` built-in. Each record is parsed as one JSON object (plugins/fields/json_record.h),
// then, in this order: `where` (or `drop_where`) drops the record if it holds and `keep_where` if it does
// not; `keep` prunes to the chosen fields;
// `drop` removes fields; `mask` replaces values; `rename` renames members in place. A record nothing
// changed goes on byte for byte (Keep); a changed one is written back compactly, member order kept
// (Replace, into the batch's arena). A record that is not one JSON object fails with the parser's reason,
// and its on_error decides.
//
// Decides synchronously. The document, its pools, the writer and the list of chosen values are reused
// from record to record, so a record of a few KiB costs no heap allocation. Loop thread only.
#include <algorithm>
#include <string>
#include <vector>

#include "plugins/fields/json_record.h"
#include "plugins/json/json_options.h"

namespace ferry::plugins {

namespace {

class JsonPlugin final : public Plugin {
 public:
  explicit JsonPlugin(JsonOptions options) : options_(std::move(options)) {}

  void Process(PluginBatch& work) override {
    const auto records = work.records();
    for (std::size_t i = 0; i < records.size(); ++i) ProcessOne(work, i, records[i].data);
    work.Done();
  }

 private:
  void ProcessOne(PluginBatch& work, std::size_t i, std::string_view record) {
    if (!json_.Parse(record)) {
      work.Fail(i, json_.error());
      return;
    }
    rapidjson::Value& doc = json_.document();
    if ((!options_.keep_where.empty() && !options_.keep_where.Holds(doc)) ||
        (!options_.where.empty() && options_.where.Holds(doc)) ||
        (!options_.drop_where.empty() && options_.drop_where.Holds(doc))) {
      work.Drop(i);
      return;
    }
    bool changed = false;
    if (!options_.keep.empty()) {
      Mark(options_.keep, doc);
      erased_ = false;
      KeepMarked(doc);
      changed |= erased_;
    }
    if (!options_.drop.empty()) {
      Mark(options_.drop, doc);
      if (!marks_.empty()) changed |= DropMarked(doc);
    }
    for (const FieldPath& path : options_.mask) {
      path.ForEach(doc, [&](const FieldSlot& slot) {
        slot.value->SetString(rapidjson::StringRef(options_.mask_with.data(), options_.mask_with.size()));
        changed = true;
        return true;
      });
    }
    for (const JsonRename& rename : options_.rename) {
      const std::string* conflict = nullptr;
      rename.from.ForEach(doc, [&](const FieldSlot& slot) {
        if (slot.name == nullptr || NameIs(*slot.name, rename.to)) return true;
        for (rapidjson::SizeType k = 0; k < slot.parent->MemberCount(); ++k) {
          const auto& m = slot.parent->MemberBegin()[k];
          if (&m.name != slot.name && NameIs(m.name, rename.to)) {
            conflict = &rename.to;
            return false;
          }
        }
        slot.name->SetString(rapidjson::StringRef(rename.to.data(), rename.to.size()));
        changed = true;
        return true;
      });
      if (conflict != nullptr) {
        work.Fail(i,
                  "rename " + rename.from.text() + ": the object already has a member '" + *conflict + "'");
        return;
      }
    }
    if (!changed) {
      work.Keep(i);
      return;
    }
    work.Replace(i, json_.Write());
  }

  static bool NameIs(const rapidjson::Value& name, const std::string& s) {
    return name.GetStringLength() == s.size() && std::equal(s.begin(), s.end(), name.GetString());
  }

  // Collects the values paths choose, as marks_.
  void Mark(const std::vector<FieldPath>& paths, rapidjson::Value& doc) {
    marks_.clear();
    for (const FieldPath& path : paths) {
      path.ForEach(doc, [this](const FieldSlot& slot) {
        marks_.push_back(slot.value);
        return true;
      });
    }
  }

  bool Marked(const rapidjson::Value* v) const {
    return std::find(marks_.begin(), marks_.end(), v) != marks_.end();
  }

  // Removes from v whatever is neither marked nor holds a marked value; returns whether v holds one. Walks
  // members backwards, by index (clang rejects comparing rapidjson's member iterators in C++20), so that
  // erasing one moves only members already decided. Sets erased_ if it erased.
  bool KeepMarked(rapidjson::Value& v) {
    bool holds = false;
    bool erased = false;
    if (v.IsObject()) {
      for (rapidjson::SizeType k = v.MemberCount(); k-- > 0;) {
        auto m = v.MemberBegin() + k;
        if (Marked(&m->value) || KeepMarked(m->value)) {
          holds = true;
        } else {
          v.EraseMember(m);
          erased = true;
        }
      }
    } else if (v.IsArray()) {
      for (auto e = v.End(); e != v.Begin();) {
        --e;
        if (Marked(e) || KeepMarked(*e)) {
          holds = true;
        } else {
          e = v.Erase(e);
          erased = true;
        }
      }
    }
    erased_ |= erased;
    return holds;
  }

  // Removes the marked values from v and everything in it; returns whether it removed any.
  bool DropMarked(rapidjson::Value& v) {
    bool erased = false;
    if (v.IsObject()) {
      for (rapidjson::SizeType k = v.MemberCount(); k-- > 0;) {
        auto m = v.MemberBegin() + k;
        if (Marked(&m->value)) {
          v.EraseMember(m);
          erased = true;
        } else {
          erased |= DropMarked(m->value);
        }
      }
    } else if (v.IsArray()) {
      for (auto e = v.End(); e != v.Begin();) {
        --e;
        if (Marked(e)) {
          e = v.Erase(e);
          erased = true;
        } else {
          erased |= DropMarked(*e);
        }
      }
    }
    return erased;
  }

  JsonOptions options_;
  JsonRecord json_;
  std::vector<const rapidjson::Value*> marks_;  // reused; grows to the most values one record had chosen
  bool erased_ = false;
};

}  // namespace

Result<std::unique_ptr<Plugin>> MakeJsonPlugin(const JsonOptions& options, const PluginEnv&) {
  return std::unique_ptr<Plugin>(std::make_unique<JsonPlugin>(options));
}

}  // namespace ferry::plugins
