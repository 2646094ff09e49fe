// BuiltinPlugins: one line per built-in, each plugin's options table and maker from its own folder.
#include "plugins/builtin_plugins.h"

#include "plugins/add/add_plugin.h"
#include "plugins/external/external_options.h"
#include "plugins/grep/grep_options.h"
#include "plugins/json/json_options.h"
#include "plugins/lambda/lambda_options.h"
#include "plugins/parse/parse_plugin.h"
#include "plugins/redact/redact_plugin.h"
#include "plugins/sample/sample_plugin.h"
#include "plugins/singleline/singleline_plugin.h"
#include "plugins/throttle/throttle_plugin.h"

namespace ferry::plugins {

const std::vector<std::pair<std::string, OnError>>& OnErrorWords() {
  static const std::vector<std::pair<std::string, OnError>> words = {
      {"pass", OnError::kPass}, {"drop", OnError::kDrop}, {"dead_letter", OnError::kDeadLetter}};
  return words;
}

const std::vector<const PluginKind*>& BuiltinPlugins() {
  // In the order `ferry check --keys` and the man page list them.
  static const std::vector<const PluginKind*> kinds = [] {
    static const BuiltinKind<GrepOptions> grep(
        "grep",
        "keeps the records that match an include regex (if any) and no exclude regex, on the whole record or "
        "on a JSON field; drops the others",
        &GrepFields, &MakeGrepPlugin);
    static const BuiltinKind<redact::RedactOptions> redact(
        "redact",
        "takes secrets and personal data out of records: named patterns (email, ipv4, credit_card, ...) and "
        "regexes of your own, all in one pass, replaced by a string, a mask or an HMAC pseudonym",
        &redact::RedactFields, &MakeRedactPlugin);
    static const BuiltinKind<JsonOptions> json(
        "json",
        "parses each record as one JSON object; drops records by a condition (where, keep_where), "
        "then keeps, drops, masks and renames fields by path; a record that is not one JSON object "
        "fails (on_error decides)",
        &JsonFields, &MakeJsonPlugin);
    static const BuiltinKind<ParseOptions> parse(
        "parse",
        "text logs (Apache access and error logs, syslog, CSV, or any line by a regex) to one JSON object "
        "per line, under the Kinesis Agent's LOGTOJSON / CSVTOJSON field names",
        &ParseFields, &MakeParsePlugin);
    static const BuiltinKind<AddOptions> add(
        "add",
        "adds fields, the read time and a record id to JSON records, or as key=value pairs before text",
        &AddFields, &MakeAddPlugin);
    static const BuiltinKind<SinglelineOptions> singleline(
        "singleline", "makes a multi-line record one line, as the Kinesis Agent's SINGLELINE processor does",
        &SinglelineFields, &MakeSinglelinePlugin);
    static const BuiltinKind<SampleOptions> sample(
        "sample", "keeps one record in N, by count or by a hash of a key so related records stay together",
        &SampleFields, &MakeSamplePlugin);
    static const BuiltinKind<ThrottleOptions> throttle(
        "throttle", "lets at most rate records per period through, per key; drops and counts the excess",
        &ThrottleFields, &MakeThrottlePlugin);
    static const BuiltinKind<LambdaOptions> lambda(
        "lambda",
        "runs a Firehose data-transformation function (a handler written for AWS Lambda) as a local "
        "process: each record goes on with the data it returns (Ok), is dropped (Dropped) or fails "
        "(ProcessingFailed, error code processing-failed)",
        &LambdaFields, &MakeLambdaPlugin);
    static const BuiltinKind<ExternalOptions> external(
        "external",
        "a plugin built outside ferry (C, C++, Rust): a shared object with the C ABI of ferry/plugin.h, "
        "loaded at start; process() runs on a worker thread, one batch at a time",
        &ExternalFields, &MakeExternalPlugin);
    return std::vector<const PluginKind*>{&grep,       &redact, &json,     &parse,  &add,
                                          &singleline, &sample, &throttle, &lambda, &external};
  }();
  return kinds;
}

const PluginKind* FindPlugin(std::string_view name) {
  for (const PluginKind* kind : BuiltinPlugins()) {
    if (kind->name() == name) return kind;
  }
  return nullptr;
}

}  // namespace ferry::plugins
