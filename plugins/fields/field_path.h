// FieldPath and FieldCondition: the small language plugins use to name fields of a JSON record and to
// test them, parsed once at config time and evaluated on a RapidJSON DOM per record.
//
// Paths:
//   a.b.c                  member c of member b of member a
//   "a.b".c                a quoted key (for keys with dots, spaces, brackets; JSON string escapes work)
//   a[0]                   element 0 of array a
//   a[]                    every element of array a (every member value if a is an object)
//   h[name == "Cookie"]    the elements of h for which the condition holds (paths in it start at the element)
//   tags[@ == "x"]         @ is the element itself
// Conditions (also the `where:` of the json plugin, with paths from the record's root):
//   p == v   p != v   p in [v, ...]   p not in [v, ...]   p exists   not c   c and c   c or c   ( c )
//   v is a string ("x", with JSON escapes), a case-insensitive string (i"cookie"), a number, true, false or
//   null. Values compare by text: a string by its characters, a number by its JSON text, so `status == 200`
//   holds for both {"status":200} and {"status":"200"}. Where a path selects several values (a[], or a key
//   given twice in one object), `==` and `in` hold if any of them matches; `!=` and `not in` are their
//   negations (so they hold for a missing field), `exists` holds if the path selects anything (null too).
//
// Keys: a key step selects every member of that name (JSON allows a key twice; a record that repeats a key
// gets both masked or dropped, never just the first). A key step on an array, an index on an object, and
// any step on a scalar select nothing; there is no implicit flattening.
//
// Both types are immutable after Parse and cheap to copy (the parsed form is shared). Evaluation does not
// allocate. Thread-compatible: const methods may run on several threads at once.
#pragma once

#include <rapidjson/document.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace ferry::plugins {

struct FieldPathSyntax;  // the parsed form (field_path_syntax.h)
struct ConditionNode;

// Room for the text of a number, true, false or null.
using ScalarBuffer = std::array<char, 32>;

// The text a scalar compares by: a string's bytes, a number's JSON text (written into buffer unless the DOM
// holds numbers as strings), true, false or null. Nothing for objects and arrays.
std::optional<std::string_view> ScalarText(const rapidjson::Value& value, ScalarBuffer& buffer);

// One selected value and where it sits: its parent object or array (null for the root) and, in an object,
// the member's name (which a caller may change to rename it).
struct FieldSlot {
  rapidjson::Value* value = nullptr;
  rapidjson::Value* parent = nullptr;
  rapidjson::Value* name = nullptr;
};

// Receives the values a path selects; returns false to stop.
class FieldVisitor {
 public:
  virtual bool Visit(const FieldSlot& slot) = 0;

 protected:
  ~FieldVisitor() = default;
};

class FieldPath {
 public:
  // The longest path text accepted, and how deep brackets and parentheses may nest in it.
  static constexpr std::size_t kMaxTextBytes = 4096;
  static constexpr int kMaxNesting = 16;

  FieldPath() = default;  // selects the root itself (the path "@")

  // Parses text; an error names what is wrong and the column (1-based) in text where it is.
  static Result<FieldPath> Parse(std::string_view text);

  // The text it was parsed from.
  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  // Whether it selects the value it starts at ("@").
  bool IsRoot() const { return !syntax_; }
  // Whether its last step is a key (so what it selects are members of objects, which have names).
  bool EndsWithKey() const;

  // Calls visitor for every value the path selects in root, in document order, until it returns false.
  // The visitor may change a value or a member's name in place, but not add or remove members or
  // elements while the visit runs.
  void Visit(rapidjson::Value& root, FieldVisitor& visitor) const;
  template <typename Fn>  // fn(const FieldSlot&) -> bool (false stops)
  void ForEach(rapidjson::Value& root, Fn&& fn) const {
    struct Adapter final : FieldVisitor {
      explicit Adapter(Fn& f) : fn(f) {}
      bool Visit(const FieldSlot& slot) override { return fn(slot); }
      Fn& fn;
    } adapter(fn);
    Visit(root, adapter);
  }
  template <typename Fn>  // fn(const rapidjson::Value&) -> bool (false stops)
  void ForEach(const rapidjson::Value& root, Fn&& fn) const {
    // The visit itself changes nothing; the const view hands out const values only.
    ForEach(const_cast<rapidjson::Value&>(root),
            [&fn](const FieldSlot& slot) { return fn(static_cast<const rapidjson::Value&>(*slot.value)); });
  }

  // The first value selected, if any.
  const rapidjson::Value* First(const rapidjson::Value& root) const;
  // The first value selected, if it is a string.
  std::optional<std::string_view> FirstString(const rapidjson::Value& root) const;
  // The text of the first value selected, if it is a scalar (see ScalarText; buffer holds number text).
  std::optional<std::string_view> FirstScalar(const rapidjson::Value& root, ScalarBuffer& buffer) const;

 private:
  friend struct FieldPathParser;
  std::string text_;
  std::shared_ptr<const FieldPathSyntax> syntax_;  // null: the root
};

class FieldCondition {
 public:
  static constexpr std::size_t kMaxTextBytes = FieldPath::kMaxTextBytes;

  FieldCondition() = default;  // always true

  // Parses text; an error names what is wrong and the column (1-based) in text where it is.
  static Result<FieldCondition> Parse(std::string_view text);

  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }

  // Whether the condition holds for root (paths start there).
  bool Holds(const rapidjson::Value& root) const;

 private:
  friend struct FieldPathParser;
  std::string text_;
  std::shared_ptr<const ConditionNode> root_;  // null: always true
};

}  // namespace ferry::plugins
