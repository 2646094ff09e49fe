// PluginLibrary: dlopen, dlsym of the one entry, and the checks of its table in the order that makes each
// read safe: the version and size first (the same two members in every ABI), then the rest.
#include "plugins/external/plugin_library.h"

#include <dlfcn.h>

#include <cstring>

#include <fmt/format.h>

namespace ferry::plugins {

Result<std::unique_ptr<PluginLibrary>> PluginLibrary::Load(const std::string& real_path) {
  ::dlerror();
  void* handle = ::dlopen(real_path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* error = ::dlerror();
    std::string_view why = error != nullptr ? error : "dlopen failed";
    // glibc's text starts with the path itself, which the message names already.
    if (why.starts_with(real_path + ": ")) why.remove_prefix(real_path.size() + 2);
    return Error(ErrorCode::kInvalidArgument, fmt::format("cannot load {}: {}", real_path, why));
  }
  auto fail = [&](std::string message) {
    ::dlclose(handle);
    return Error(ErrorCode::kInvalidArgument, std::move(message));
  };
  ::dlerror();
  void* symbol = ::dlsym(handle, FERRY_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    return fail(
        fmt::format("{} is not a ferry plugin: it has no symbol {}", real_path, FERRY_PLUGIN_ENTRY_SYMBOL));
  }
  // POSIX lets a data pointer from dlsym name a function.
  ferry_plugin_entry_fn entry;
  static_assert(sizeof entry == sizeof symbol);
  std::memcpy(&entry, &symbol, sizeof entry);
  const ferry_plugin_api* api = entry();
  if (api == nullptr)
    return fail(fmt::format("{}: {} returned no table", real_path, FERRY_PLUGIN_ENTRY_SYMBOL));
  if (api->abi_version != FERRY_PLUGIN_ABI_VERSION) {
    return fail(
        fmt::format("{} was built for plugin ABI {}; this ferry loads ABI {} (rebuild it against this "
                    "ferry's ferry/plugin.h)",
                    real_path, api->abi_version, FERRY_PLUGIN_ABI_VERSION));
  }
  if (api->struct_size < sizeof(ferry_plugin_api)) {
    return fail(fmt::format("{}: its table is {} bytes, ABI {}'s is {}", real_path, api->struct_size,
                            FERRY_PLUGIN_ABI_VERSION, sizeof(ferry_plugin_api)));
  }
  if (api->create == nullptr || api->process == nullptr || api->destroy == nullptr) {
    return fail(fmt::format("{}: its table lacks {}", real_path,
                            api->create == nullptr    ? "create"
                            : api->process == nullptr ? "process"
                                                      : "destroy"));
  }
  std::string name = api->name != nullptr && api->name[0] != '\0'
                         ? std::string(api->name, ::strnlen(api->name, 128))
                         : real_path.substr(real_path.find_last_of('/') + 1);
  return std::unique_ptr<PluginLibrary>(new PluginLibrary(handle, api, std::move(name), real_path));
}

PluginLibrary::~PluginLibrary() {
  ::dlclose(handle_);
}

}  // namespace ferry::plugins
