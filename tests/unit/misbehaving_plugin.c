/* misbehaving_plugin: an external plugin for tests/unit/external_plugin_test.cpp that gives, per record,
 * the answers the ABI allows and those it does not, so the adapter's handling of each is tested:
 *   "unknown"     verdict 99                      "null"       REPLACE with NULL data and 5 bytes
 *   "none"        no verdict (left 0)             "empty"      REPLACE with NULL data and 0 bytes
 *   "no-reason"   FAIL with a NULL reason         "context"    REPLACE with "<source path>|<read time>"
 *   "batch-error" anywhere in the batch: process returns 1 with a reason
 *   "sleep"       sleeps 300 ms in process (a slow plugin), then keeps it
 *   "huge"        REPLACE with SIZE_MAX bytes (a size gone wrong)
 * anything else is kept. Built against the public header only, like any plugin.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ferry/plugin.h>

struct state {
  char context[4200];
};

static int is(const struct ferry_record* r, const char* word) {
  return r->size == strlen(word) && memcmp(r->data, word, r->size) == 0;
}

static void* create(const char* options_json, size_t options_size, char* error, size_t error_size) {
  (void)options_json;
  (void)options_size;
  (void)error;
  (void)error_size;
  return calloc(1, sizeof(struct state));
}

static int process(void* instance, const struct ferry_batch* batch, struct ferry_result* results, char* error,
                   size_t error_size) {
  struct state* s = instance;
  for (size_t i = 0; i < batch->count; ++i) {
    if (is(&batch->records[i], "batch-error")) {
      snprintf(error, error_size, "the batch had batch-error");
      return 1;
    }
  }
  for (size_t i = 0; i < batch->count; ++i) {
    const struct ferry_record* r = &batch->records[i];
    struct ferry_result* out = &results[i];
    if (is(r, "unknown")) {
      out->verdict = 99;
    } else if (is(r, "null")) {
      out->verdict = FERRY_VERDICT_REPLACE;
      out->size = 5;
    } else if (is(r, "none")) {
    } else if (is(r, "empty")) {
      out->verdict = FERRY_VERDICT_REPLACE;
    } else if (is(r, "no-reason")) {
      out->verdict = FERRY_VERDICT_FAIL;
    } else if (is(r, "context")) {
      const int n = snprintf(s->context, sizeof s->context, "%s|%lld", batch->source_path,
                             (long long)batch->read_time_ms);
      out->verdict = FERRY_VERDICT_REPLACE;
      out->data = s->context;
      out->size = (size_t)n;
    } else if (is(r, "huge")) {
      out->verdict = FERRY_VERDICT_REPLACE;
      out->data = s->context;
      out->size = SIZE_MAX;
    } else if (is(r, "sleep")) {
      const struct timespec pause = {0, 300 * 1000 * 1000};
      nanosleep(&pause, NULL);
      out->verdict = FERRY_VERDICT_KEEP;
    } else {
      out->verdict = FERRY_VERDICT_KEEP;
    }
  }
  return 0;
}

static void destroy(void* instance) {
  free(instance);
}

static const struct ferry_plugin_api api = {
    FERRY_PLUGIN_ABI_VERSION, sizeof(struct ferry_plugin_api), "misbehaving", create, process, destroy};

FERRY_PLUGIN_EXPORT const struct ferry_plugin_api* ferry_plugin_entry(void) {
  return &api;
}
