/* ferry_example_filter: an external plugin written in C11 against <ferry/plugin.h> alone, the model for
 * plugins built outside the tree and the one ferry's tests load.
 *
 * Options (a JSON object; every key optional):
 *   "drop_containing": "text"   drops the records that contain text
 *   "fail_containing": "text"   fails the records that contain text ("contains <text>")
 *   "uppercase": true           replaces each record not dropped or failed by its ASCII upper case
 * Records neither dropped, failed nor changed are kept. An unknown key, a value of the wrong type or a text
 * that is not a simple JSON string (escapes other than \" and \\ are refused, to keep this reader short)
 * makes create fail with a reason.
 *
 * Built three ways (CMakeLists.txt beside it): as is; with FERRY_EXAMPLE_ABI_VERSION=2, a plugin that
 * claims another ABI; and with FERRY_EXAMPLE_NO_ENTRY, a shared object without the entry symbol.
 * Thread: as the header says; an instance is used by one call at a time and shares nothing with others.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/plugin.h>

#ifndef FERRY_EXAMPLE_ABI_VERSION
#define FERRY_EXAMPLE_ABI_VERSION FERRY_PLUGIN_ABI_VERSION
#endif

struct example {
  char* drop_containing; /* NULL: none */
  char* fail_containing;
  bool uppercase;
  char* reason;      /* the reason of the last failed record's "contains ..." text, owned here */
  char* upper;       /* replacement bytes of the last batch, owned here until the next call */
  size_t upper_size; /* bytes in use */
  size_t upper_cap;
};

static void example_destroy(void* instance) {
  struct example* ex = instance;
  if (ex == NULL) return;
  free(ex->drop_containing);
  free(ex->fail_containing);
  free(ex->reason);
  free(ex->upper);
  free(ex);
}

/* A tiny reader for a flat JSON object of strings and booleans: enough for these options. */
struct reader {
  const char* at;
  const char* end;
};

static void skip_space(struct reader* r) {
  while (r->at < r->end && (*r->at == ' ' || *r->at == '\n' || *r->at == '\r' || *r->at == '\t')) ++r->at;
}

static bool expect(struct reader* r, char c) {
  skip_space(r);
  if (r->at >= r->end || *r->at != c) return false;
  ++r->at;
  return true;
}

/* Reads a JSON string into a new NUL-terminated buffer (the caller frees it); NULL if it is not one. */
static char* read_string(struct reader* r) {
  if (!expect(r, '"')) return NULL;
  char* out = malloc((size_t)(r->end - r->at) + 1);
  if (out == NULL) return NULL;
  size_t n = 0;
  while (r->at < r->end && *r->at != '"') {
    char c = *r->at++;
    if (c == '\\') {
      if (r->at >= r->end || (*r->at != '"' && *r->at != '\\')) break;
      c = *r->at++;
    }
    out[n++] = c;
  }
  if (r->at >= r->end || *r->at != '"') {
    free(out);
    return NULL;
  }
  ++r->at;
  out[n] = '\0';
  return out;
}

static bool read_word(struct reader* r, const char* word) {
  skip_space(r);
  const size_t n = strlen(word);
  if ((size_t)(r->end - r->at) < n || memcmp(r->at, word, n) != 0) return false;
  r->at += n;
  return true;
}

static void* example_create(const char* options_json, size_t options_size, char* error, size_t error_size) {
  struct example* ex = calloc(1, sizeof *ex);
  if (ex == NULL) {
    snprintf(error, error_size, "out of memory");
    return NULL;
  }
  struct reader r = {options_json, options_json + options_size};
  if (!expect(&r, '{')) {
    snprintf(error, error_size, "options must be a JSON object");
    example_destroy(ex);
    return NULL;
  }
  skip_space(&r);
  bool first = true;
  while (!(r.at < r.end && *r.at == '}')) {
    if (!first && !expect(&r, ',')) goto bad;
    first = false;
    char* key = read_string(&r);
    if (key == NULL || !expect(&r, ':')) {
      free(key);
      goto bad;
    }
    char** text = NULL;
    if (strcmp(key, "drop_containing") == 0) text = &ex->drop_containing;
    if (strcmp(key, "fail_containing") == 0) text = &ex->fail_containing;
    if (text != NULL) {
      free(*text);
      *text = read_string(&r);
      if (*text == NULL || **text == '\0') {
        snprintf(error, error_size, "%s must be a non-empty string", key);
        free(key);
        example_destroy(ex);
        return NULL;
      }
    } else if (strcmp(key, "uppercase") == 0) {
      if (read_word(&r, "true")) {
        ex->uppercase = true;
      } else if (read_word(&r, "false")) {
        ex->uppercase = false;
      } else {
        snprintf(error, error_size, "uppercase must be true or false");
        free(key);
        example_destroy(ex);
        return NULL;
      }
    } else {
      snprintf(error, error_size, "unknown option '%s' (known: drop_containing, fail_containing, uppercase)",
               key);
      free(key);
      example_destroy(ex);
      return NULL;
    }
    free(key);
    skip_space(&r);
  }
  return ex;
bad:
  snprintf(error, error_size, "options are not a flat JSON object of strings and booleans");
  example_destroy(ex);
  return NULL;
}

static bool contains(const struct ferry_record* record, const char* text) {
  const size_t n = strlen(text);
  if (n > record->size) return false;
  const char* const last = record->data + (record->size - n);
  for (const char* at = record->data; at <= last; ++at) {
    /* memchr finds the candidates for the first byte at the library's speed. */
    at = memchr(at, text[0], (size_t)(last - at) + 1);
    if (at == NULL) return false;
    if (memcmp(at, text, n) == 0) return true;
  }
  return false;
}

static int example_process(void* instance, const struct ferry_batch* batch, struct ferry_result* results,
                           char* error, size_t error_size) {
  struct example* ex = instance;
  /* One buffer for every replacement of the batch: the results point into it, so it is sized first and
   * never moves while they are filled. */
  size_t need = 0;
  if (ex->uppercase) {
    for (size_t i = 0; i < batch->count; ++i) need += batch->records[i].size;
  }
  if (need > ex->upper_cap) {
    char* grown = realloc(ex->upper, need);
    if (grown == NULL) {
      snprintf(error, error_size, "out of memory for %zu bytes", need);
      return 1;
    }
    ex->upper = grown;
    ex->upper_cap = need;
  }
  ex->upper_size = 0;
  if (ex->fail_containing != NULL && ex->reason == NULL) {
    const size_t n = strlen(ex->fail_containing) + sizeof "contains ";
    ex->reason = malloc(n);
    if (ex->reason == NULL) {
      snprintf(error, error_size, "out of memory");
      return 1;
    }
    snprintf(ex->reason, n, "contains %s", ex->fail_containing);
  }
  for (size_t i = 0; i < batch->count; ++i) {
    const struct ferry_record* record = &batch->records[i];
    struct ferry_result* result = &results[i];
    if (ex->drop_containing != NULL && contains(record, ex->drop_containing)) {
      result->verdict = FERRY_VERDICT_DROP;
    } else if (ex->fail_containing != NULL && contains(record, ex->fail_containing)) {
      result->verdict = FERRY_VERDICT_FAIL;
      result->reason = ex->reason;
    } else if (ex->uppercase) {
      char* out = ex->upper + ex->upper_size;
      /* ASCII only, whatever the process's locale: bytes past 127 (UTF-8) stay as they are. */
      for (size_t k = 0; k < record->size; ++k) {
        const char c = record->data[k];
        out[k] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
      }
      ex->upper_size += record->size;
      result->verdict = FERRY_VERDICT_REPLACE;
      result->data = out;
      result->size = record->size;
    } else {
      result->verdict = FERRY_VERDICT_KEEP;
    }
  }
  return 0;
}

static const struct ferry_plugin_api example_api = {
    .abi_version = FERRY_EXAMPLE_ABI_VERSION,
    .struct_size = sizeof(struct ferry_plugin_api),
    .name = "example_filter",
    .create = example_create,
    .process = example_process,
    .destroy = example_destroy,
};

#ifndef FERRY_EXAMPLE_NO_ENTRY
FERRY_PLUGIN_EXPORT const struct ferry_plugin_api* ferry_plugin_entry(void) {
  return &example_api;
}
#else
/* Something exported, so the library is a plausible plugin in all but its entry. */
FERRY_PLUGIN_EXPORT const struct ferry_plugin_api* ferry_plugin_entry_misspelt(void) {
  return &example_api;
}
#endif
