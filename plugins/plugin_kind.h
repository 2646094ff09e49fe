// PluginKind: one built-in plugin as the config and the flow builder see it: its name, what it does, its
// options table, and how to make it.
//
// Every plugin declares its options once, as a table of config::Field (agent/config/schema.h). The same
// table parses and validates the plugin's entry in a flow's `plugins:` list (errors at file:line:column),
// prints the effective config for `ferry check`, and gives the lines of `ferry check --keys` and of the
// man page. Every plugin also takes `on_error` (pass | drop | dead_letter), which the kind adds to its
// table, so no plugin declares it.
//
// A configured plugin (PluginSpec) holds its parsed options type-erased; only its kind reads them. Make
// builds a plugin for one flow; it may fail (a key file that cannot be read), and it runs in `ferry check`
// too, so check refuses what run would. Make starts nothing (no handle, no process, no timer; in `ferry
// check` the loop is null): a plugin made and destroyed without ever getting a batch leaves nothing behind.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/config/schema.h"
#include "agent/core/result.h"
#include "agent/pipeline/plugin.h"
#include "plugins/plugin_env.h"

namespace ferry::plugins {

class PluginKind;

// One entry of a flow's `plugins:` list, parsed.
struct PluginSpec {
  const PluginKind* kind = nullptr;
  OnError on_error = OnError::kPass;
  std::shared_ptr<const void> options;  // the kind's options struct
  std::string location;                 // "file:line:column" of the entry, for errors found when made
  std::string path;                     // its key path: "flows[0].plugins[1].redact"
};

// The words of on_error, as the config spells them.
const std::vector<std::pair<std::string, OnError>>& OnErrorWords();

class PluginKind {
 public:
  virtual ~PluginKind() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view doc() const = 0;
  // Parses the plugin's options (node: the value under the plugin's name) into spec.
  virtual void Parse(const YAML::Node& node, const std::string& path, config::ParseContext& ctx,
                     PluginSpec& spec) const = 0;
  // Writes the effective options as a map.
  virtual void Emit(YAML::Emitter& out, const PluginSpec& spec) const = 0;
  // One line per key: "prefix.key  type  default  doc", as config::DescribeKeys prints them.
  void Describe(std::string& out, std::string_view prefix) const {
    DescribeEach([&](std::string_view key, std::string_view type, std::string_view default_value,
                     std::string_view doc) {
      config::DescribeKeyLine(out, config::JoinPath(prefix, key), type, default_value, doc);
    });
  }
  // Calls each(key, type, default, doc) for every option, in the table's order ("(required)" as default
  // for a required one).
  using KeyVisitor = std::function<void(std::string_view key, std::string_view type,
                                        std::string_view default_value, std::string_view doc)>;
  virtual void DescribeEach(const KeyVisitor& each) const = 0;
  virtual Result<std::unique_ptr<Plugin>> Make(const PluginSpec& spec, const PluginEnv& env) const = 0;
};

// A built-in whose options are O, declared by fields(), and made by make.
template <typename O>
class BuiltinKind final : public PluginKind {
 public:
  using Fields = const std::vector<config::Field<O>>& (*)();
  using Maker = Result<std::unique_ptr<Plugin>> (*)(const O& options, const PluginEnv& env);

  BuiltinKind(std::string_view name, std::string_view doc, Fields fields, Maker make)
      : name_(name), doc_(doc), make_(make), lifted_(Lift(fields())) {}

  std::string_view name() const override { return name_; }
  std::string_view doc() const override { return doc_; }

  void Parse(const YAML::Node& node, const std::string& path, config::ParseContext& ctx,
             PluginSpec& spec) const override {
    Configured configured;
    config::ParseMap(node, path, lifted_, configured, ctx);
    spec.kind = this;
    spec.on_error = configured.on_error;
    spec.options = std::make_shared<const O>(std::move(configured.options));
  }

  void Emit(YAML::Emitter& out, const PluginSpec& spec) const override {
    Configured configured{*static_cast<const O*>(spec.options.get()), spec.on_error};
    config::EmitMap(out, lifted_, configured);
  }

  void DescribeEach(const KeyVisitor& each) const override {
    for (const auto& f : lifted_) {
      each(f.name, f.type, f.required ? std::string_view("(required)") : std::string_view(f.default_value), f.doc);
    }
  }

  Result<std::unique_ptr<Plugin>> Make(const PluginSpec& spec, const PluginEnv& env) const override {
    return make_(*static_cast<const O*>(spec.options.get()), env);
  }

 private:
  struct Configured {
    O options;
    OnError on_error = OnError::kPass;
  };

  // The plugin's own fields, plus on_error.
  static std::vector<config::Field<Configured>> Lift(const std::vector<config::Field<O>>& fields) {
    std::vector<config::Field<Configured>> lifted;
    for (const auto& f : fields) {
      lifted.push_back(config::Field<Configured>{
          f.name, f.type, f.default_value, f.doc, f.required,
          [parse = f.parse](const YAML::Node& n, const std::string& p, Configured& out,
                            config::ParseContext& ctx) { parse(n, p, out.options, ctx); },
          f.emit ? std::function<void(YAML::Emitter&, const Configured&)>(
                       [emit = f.emit](YAML::Emitter& e, const Configured& in) { emit(e, in.options); })
                 : nullptr});
    }
    lifted.push_back(config::EnumField<Configured, OnError>(
        "on_error", &Configured::on_error, OnErrorWords(), "pass | drop | dead_letter",
        "a record the plugin fails on goes on unchanged (pass), is dropped and counted (drop), or goes to "
        "the flow's dead-letter file with the plugin's name and the reason (dead_letter)"));
    return lifted;
  }

  std::string_view name_;
  std::string_view doc_;
  Maker make_;
  std::vector<config::Field<Configured>> lifted_;
};

}  // namespace ferry::plugins
