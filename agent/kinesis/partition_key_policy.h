// PartitionKeyPolicy: picks the partition key (and the optional explicit hash key) of each record sent to a
// Kinesis data stream, as a flow's config asks: random (the default), a fixed key or template, a field of a
// JSON record, or a regex capture of the record. Everything the config says is checked once, in Create(),
// so KeyFor() never fails: a record whose field or capture cannot be a key gets the fallback key instead,
// and is counted.
//
// Kinesis rules for a partition key (PutRecords API reference): 1 to 256 Unicode characters, valid UTF-8.
// A longer key is cut at 256 characters (a code point boundary); only the part kept has to be valid UTF-8.
//
// Ownership: KeyFor() returns a view whose bytes live in the policy (fixed keys, and ${file} keys of the
// first kMaxCachedFiles file paths, which are never evicted so their views stay valid) or in the arena it is
// given (random keys, captures, ${file} keys of further paths). Either way the view is valid while both the
// policy and that arena live, which for the packer means while the record's batch does.
//
// Threads: Create() may run anywhere. KeyFor() changes the policy (random state, the JSON parser and its
// buffer, the file cache, the counter), so one thread at a time calls it: the flow's loop thread. A policy
// can be moved (its state stays where it is, so views it gave out stay valid) but not copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/arena.h"
#include "agent/core/result.h"
#include "agent/kinesis/stream_options.h"

namespace ferry::kinesis {

// How a flow's records get their partition keys (the flow's `partition_key`, stream_options.h), and its
// explicit hash key. The kinds in detail:
// kTemplate: the template ("web", "${hostname}", "${flow}-${file}"). ${file} is the source file's path.
// kJsonField: a dotted path of object members ("user.id", "a.b.c"). Members are found by their name as
//   written in the record, so a name spelled with escapes (\u0069d for id) is not found, and a name that
//   contains a dot cannot be reached. A record is read only as far as the field, so a JSON error after
//   it can go unnoticed; but the record must be valid UTF-8 throughout and end with its object's "}". A
//   string field is unescaped; a number keeps its JSON text ("42", "-1.5e3").
// kRegex: an RE2 pattern with exactly one capturing group, or with a group named `key` ((?P<key>...))
//   among several.
// kDataMd5: the MD5 of the record's bytes as 32 lowercase hex digits (the Kinesis Agent's DETERMINISTIC
//   partitionKeyOption): equal records share a shard. Never falls back.
// fallback: used when the field or capture is missing or cannot be a key (empty, or invalid UTF-8 within
//   its first 256 characters), and for ${file} keys a path cannot make: "random", or a template as above.
//   A fallback template with ${file} that cannot make a key either falls back to random.
struct PartitionKeySpec : PartitionKeyOptions {
  // Optional: a decimal number 0..2^128-1 sent as ExplicitHashKey with every record, so all records go to
  // the shard whose hash key range holds it, whatever their partition key.
  std::string explicit_hash_key;
};

// The values of the template variables that do not change per record.
struct KeyContext {
  std::string_view hostname;
  std::string_view flow;
};

class PartitionKeyPolicy {
 public:
  // Kinesis limit on a partition key, in Unicode characters (PutRecords API reference).
  static constexpr std::size_t kMaxKeyChars = 256;
  // The most bytes a key can take (4 per character in UTF-8): what a record's data must leave room for.
  static constexpr std::size_t kMaxKeyBytes = 4 * kMaxKeyChars;
  // ${file} keys are kept for this many distinct paths; further paths get theirs built into the arena.
  static constexpr std::size_t kMaxCachedFiles = 256;

  // Fails (kInvalidArgument) with a message that names what is wrong: an unknown or unclosed ${...} in a
  // template (the variables are ${hostname}, ${flow} and ${file}); a template whose fixed text is empty,
  // longer than 256 characters or not UTF-8; an empty field path or an empty member in it; a regex that
  // does not compile or has the wrong capturing groups; an explicit hash key that is not a decimal number
  // in 0..2^128-1. The fallback is checked whatever the kind.
  static Result<PartitionKeyPolicy> Create(const PartitionKeySpec& spec, const KeyContext& context);

  PartitionKeyPolicy(PartitionKeyPolicy&&) noexcept;
  PartitionKeyPolicy& operator=(PartitionKeyPolicy&&) noexcept;
  ~PartitionKeyPolicy();

  // The key of one record read from file_path; never empty, at most kMaxKeyChars characters of valid
  // UTF-8. Never fails and never throws on any record bytes. Costs no allocation for fixed, cached ${file}
  // and random keys; a JSON field costs one copy of the record into a reused padded buffer (simdjson reads
  // up to SIMDJSON_PADDING bytes past the end of its input, and a record's bytes end where its arena's
  // next record starts, or at the end of a block).
  std::string_view KeyFor(std::string_view record, std::string_view file_path, Arena& arena);

  // The explicit hash key for every record, in the shortest decimal spelling (Kinesis rejects leading
  // zeros); empty when the spec has none.
  std::string_view ExplicitHashKey() const;

  // Records that got the fallback key (the field or capture was missing or unusable, or a ${file} key
  // could not be made from the path).
  std::uint64_t fallbacks() const;

  PartitionKeySpec::Kind kind() const;

 private:
  struct Impl;
  explicit PartitionKeyPolicy(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;  // on the heap so views into it survive moves of the policy
};

}  // namespace ferry::kinesis
