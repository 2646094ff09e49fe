/* ferry/plugin.h: the C ABI of ferry's external plugins (a flow's `- external: { path: ..., options: ... }`).
 *
 * A plugin is a shared object that exports one function, ferry_plugin_entry, returning a table of
 * functions (struct ferry_plugin_api): create an instance from its options, process a batch of records,
 * destroy the instance. ferry loads it with dlopen when the config is read (`ferry check` too) and refuses
 * it, before calling anything else, when the table's abi_version is not the one ferry loads. Only C types
 * cross this boundary, so a plugin may be written in C, C++ (behind extern "C", catching every exception) or
 * Rust (through bindgen).
 *
 * Versioning: FERRY_PLUGIN_ABI_VERSION changes whenever anything below changes in a way an old plugin or an
 * old ferry would misread; ferry loads only plugins built for its own version. The entry's name never
 * changes, so ferry can always read the version (the first member) and the table's size (the second) of a
 * plugin built for another one, and say which it was built for.
 *
 * Threads: ferry calls create and destroy on its loop thread, and process on a worker thread of its
 * thread pool (libuv's), not always the same one. It never makes two calls at once on one instance, and a
 * call on an instance happens-after the one before it, so an instance needs no lock of its own. Different
 * instances (several flows, or the same plugin twice in one flow) may be in process() at the same time on
 * different threads: state shared between instances (globals, statics) must be thread-safe.
 * ferry cannot interrupt a call: a process() that never returns keeps ferry from stopping. The pool has a
 * few threads (UV_THREADPOOL_SIZE, 4 by default) that ferry also writes its spool with: a process() that
 * blocks for long holds one of them.
 *
 * Ownership: ferry owns everything it passes in (options, records, the batch context, the error buffer);
 * it is valid during the call only. The plugin owns what it passes out (replacement bytes, reason texts);
 * it must stay valid and unchanged until the next call on the same instance (process or destroy). ferry
 * copies it before then. The library stays loaded as long as ferry runs, even after its last instance is
 * destroyed (a plugin may leave threads or thread-local destructors behind without harm).
 *
 * A plugin must not call exit(), change signal dispositions, or write to ferry's standard output; what it
 * prints on standard error goes to ferry's log only if ferry runs under a service manager that collects it.
 */
#ifndef FERRY_PLUGIN_H
#define FERRY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes. */
#define FERRY_PLUGIN_ABI_VERSION 1

/* The one symbol a plugin exports, under this name in every version of the ABI. */
#define FERRY_PLUGIN_ENTRY_SYMBOL "ferry_plugin_entry"

/* Exports a symbol from a library built with -fvisibility=hidden too. */
#if defined(__GNUC__) || defined(__clang__)
#define FERRY_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define FERRY_PLUGIN_EXPORT
#endif

/* What becomes of one record. ferry zero-fills the results before process(), so a record the plugin
 * leaves at 0 (or gives any other code) counts as failed: "the plugin gave it no verdict". */
enum ferry_verdict {
  FERRY_VERDICT_KEEP = 1,    /* goes on unchanged */
  FERRY_VERDICT_REPLACE = 2, /* goes on as data[0, size) of its result */
  FERRY_VERDICT_DROP = 3,    /* acknowledged and counted, not sent */
  FERRY_VERDICT_FAIL = 4     /* the flow's on_error for this plugin decides (pass, drop or dead_letter) */
};

/* One record: its bytes, without the line terminator, not NUL-terminated, and possibly holding NUL bytes. */
struct ferry_record {
  const char* data;
  size_t size;
};

/* A batch: records read together from one file, in the file's order. */
struct ferry_batch {
  const struct ferry_record* records;
  size_t count; /* at least 1 */
  /* The path of the file the records were read from (NUL-terminated; "" when there is none, e.g. stdin). */
  const char* source_path;
  /* When ferry read them, in milliseconds since the Unix epoch (wall clock; 0 if unknown). */
  int64_t read_time_ms;
};

/* The plugin's answer for records[i] is results[i]. */
struct ferry_result {
  uint32_t verdict; /* an enum ferry_verdict */
  /* FERRY_VERDICT_REPLACE: the new bytes (data may be NULL only when size is 0: an empty record). A result
   * with NULL data and a non-zero size, or one over 64 MiB, counts as failed. */
  const char* data;
  size_t size;
  /* FERRY_VERDICT_FAIL: why, as a NUL-terminated text (ferry reads at most 1024 bytes of it; NULL: no
   * reason given). It goes to the dead-letter file. */
  const char* reason;
};

/* The table a plugin's entry returns. Its first two members are the same in every version of the ABI. */
struct ferry_plugin_api {
  uint32_t abi_version; /* FERRY_PLUGIN_ABI_VERSION of the header the plugin was built with */
  uint32_t struct_size; /* sizeof(struct ferry_plugin_api) of that header */

  /* A short name for logs and errors (NUL-terminated, static). */
  const char* name;

  /* Makes an instance from the options of one `external` entry: options_json is a JSON object (the
   * entry's `options:` map, `{}` without one), options_size bytes long, followed by a NUL. Returns the
   * instance, or NULL with a NUL-terminated reason in error (at most error_size bytes, NUL included).
   * Called when the config is read, by `ferry check` too, which destroys the instance without processing
   * anything: it should check its options and acquire what it needs, but start nothing that outlives
   * destroy. Loop thread. */
  void* (*create)(const char* options_json, size_t options_size, char* error, size_t error_size);

  /* Gives each of batch->count records its result in results[0, count), which ferry zero-filled. Returns
   * 0; or non-zero with a NUL-terminated reason in error, and then every record of the batch fails with it
   * (results are ignored). A worker thread; never at the same time as another call on this instance. */
  int (*process)(void* instance, const struct ferry_batch* batch, struct ferry_result* results, char* error,
                 size_t error_size);

  /* Frees the instance; nothing it returned before is read after this. Loop thread. */
  void (*destroy)(void* instance);
};

/* The signature of the exported entry:
 *
 *   FERRY_PLUGIN_EXPORT const struct ferry_plugin_api* ferry_plugin_entry(void) { return &my_api; }
 *
 * It returns a pointer to a table that lives as long as the library (a static). ferry calls it once per
 * `external` entry, on its loop thread. */
typedef const struct ferry_plugin_api* (*ferry_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FERRY_PLUGIN_H */
