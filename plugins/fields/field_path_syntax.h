// FieldPathSyntax and ConditionNode: the parsed form of a FieldPath and a FieldCondition (field_path.h),
// made by the parser (field_path_parser.cpp) and read by the evaluator (field_path.cpp). Immutable once made.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "plugins/fields/field_path.h"

namespace ferry::plugins {

// A value a condition compares with, as text (see ScalarText).
struct ConditionLiteral {
  std::string text;
  bool fold_case = false;  // i"...": ASCII letters compare without case
};

struct ConditionNode {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNot, kAnd, kOr };
  Op op = Op::kExists;
  FieldPath path;                          // comparisons and exists
  std::vector<ConditionLiteral> literals;  // ==, != (one), in, not in (one or more)
  std::unique_ptr<ConditionNode> left;     // not, and, or
  std::unique_ptr<ConditionNode> right;    // and, or
};

struct PathStep {
  enum class Kind { kKey, kIndex, kEach };
  Kind kind = Kind::kKey;
  std::string key;                             // kKey
  std::size_t index = 0;                       // kIndex
  std::shared_ptr<const ConditionNode> where;  // kEach: only the elements it holds for (null: all)
};

struct FieldPathSyntax {
  std::vector<PathStep> steps;  // from the value the path starts at
};

// Whether node holds with its paths starting at value.
bool ConditionHolds(const ConditionNode& node, const rapidjson::Value& value);

}  // namespace ferry::plugins
