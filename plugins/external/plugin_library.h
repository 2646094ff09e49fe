// PluginLibrary: one external plugin's shared object, loaded with dlopen, and the function table its
// entry returned (plugins/include/ferry/plugin.h), checked before anything else in it is used.
//
// dlopen counts references: a library named by several `external` entries (several flows) is loaded once
// and each PluginLibrary holds one reference. It is opened RTLD_NODELETE, so dlclose in the destructor
// never unmaps it: code of a plugin may still run after its last instance is gone (threads it started,
// thread-local destructors on libuv's pool threads that called process, atexit handlers), and unmapping
// would turn those into crashes at a random later time. The cost: a library stays in memory until ferry
// exits. RTLD_LOCAL keeps its symbols from resolving another plugin's; RTLD_NOW makes a missing
// dependency an error at load (in `ferry check`), not a crash at the first call.
// Loop thread only (dlopen, dlclose and the entry are called there).
#pragma once

#include <memory>
#include <string>

#include "plugins/include/ferry/plugin.h"

#include "agent/core/result.h"

namespace ferry::plugins {

class PluginLibrary {
 public:
  // Loads real_path (already checked by TrustedFile). Errors: not a shared object (dlerror's text), no
  // entry symbol, no table, a table for another ABI version, a table too short or with a function missing.
  static Result<std::unique_ptr<PluginLibrary>> Load(const std::string& real_path);
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const ferry_plugin_api& api() const { return *api_; }
  // The plugin's name for messages: its table's, else the file's.
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }

 private:
  PluginLibrary(void* handle, const ferry_plugin_api* api, std::string name, std::string path)
      : handle_(handle), api_(api), name_(std::move(name)), path_(std::move(path)) {}

  void* handle_;
  const ferry_plugin_api* api_;
  std::string name_;
  std::string path_;
};

}  // namespace ferry::plugins
