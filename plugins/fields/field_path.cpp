// FieldPath and FieldCondition evaluation: walks a RapidJSON DOM step by step (recursion as deep as the
// path has steps, never as deep as the record), testing conditions on the candidates. No allocation.
// Members are walked by index: clang rejects comparing rapidjson's member iterators as ambiguous in C++20.
#include "plugins/fields/field_path.h"

#include <charconv>
#include <cstring>

#include "plugins/fields/field_path_syntax.h"

namespace ferry::plugins {

namespace {

bool KeyIs(const rapidjson::Value& name, const std::string& key) {
  return name.GetStringLength() == key.size() && std::memcmp(name.GetString(), key.data(), key.size()) == 0;
}

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool LiteralMatches(std::string_view text, const ConditionLiteral& literal) {
  if (text.size() != literal.text.size()) return false;
  if (!literal.fold_case) return std::memcmp(text.data(), literal.text.data(), text.size()) == 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (Lower(text[i]) != Lower(literal.text[i])) return false;
  }
  return true;
}

bool VisitSteps(const FieldPathSyntax& syntax, std::size_t i, const FieldSlot& slot, FieldVisitor& visitor) {
  if (i == syntax.steps.size()) return visitor.Visit(slot);
  const PathStep& step = syntax.steps[i];
  rapidjson::Value& at = *slot.value;
  switch (step.kind) {
    case PathStep::Kind::kKey:
      if (!at.IsObject()) return true;
      for (rapidjson::SizeType k = 0; k < at.MemberCount(); ++k) {
        auto& m = at.MemberBegin()[k];
        if (KeyIs(m.name, step.key) && !VisitSteps(syntax, i + 1, {&m.value, &at, &m.name}, visitor)) {
          return false;
        }
      }
      return true;
    case PathStep::Kind::kIndex:
      if (!at.IsArray() || step.index >= at.Size()) return true;
      return VisitSteps(syntax, i + 1, {&at[static_cast<rapidjson::SizeType>(step.index)], &at, nullptr},
                        visitor);
    case PathStep::Kind::kEach:
      if (at.IsArray()) {
        for (auto e = at.Begin(); e != at.End(); ++e) {
          if (step.where && !ConditionHolds(*step.where, *e)) continue;
          if (!VisitSteps(syntax, i + 1, {e, &at, nullptr}, visitor)) return false;
        }
      } else if (at.IsObject()) {
        for (rapidjson::SizeType k = 0; k < at.MemberCount(); ++k) {
          auto& m = at.MemberBegin()[k];
          if (step.where && !ConditionHolds(*step.where, m.value)) continue;
          if (!VisitSteps(syntax, i + 1, {&m.value, &at, &m.name}, visitor)) return false;
        }
      }
      return true;
  }
  return true;
}

bool AnyMatches(const ConditionNode& node, const rapidjson::Value& value) {
  bool hit = false;
  ScalarBuffer buffer;
  node.path.ForEach(value, [&](const rapidjson::Value& v) {
    const std::optional<std::string_view> text = ScalarText(v, buffer);
    if (!text) return true;
    for (const ConditionLiteral& literal : node.literals) {
      if (LiteralMatches(*text, literal)) {
        hit = true;
        return false;
      }
    }
    return true;
  });
  return hit;
}

}  // namespace

std::optional<std::string_view> ScalarText(const rapidjson::Value& value, ScalarBuffer& buffer) {
  switch (value.GetType()) {
    case rapidjson::kStringType:
      return std::string_view(value.GetString(), value.GetStringLength());
    case rapidjson::kTrueType:
      return "true";
    case rapidjson::kFalseType:
      return "false";
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kNumberType: {
      char* const begin = buffer.data();
      char* const end = buffer.data() + buffer.size();
      std::to_chars_result r{};
      if (value.IsUint64()) {
        r = std::to_chars(begin, end, value.GetUint64());
      } else if (value.IsInt64()) {
        r = std::to_chars(begin, end, value.GetInt64());
      } else {
        r = std::to_chars(begin, end, value.GetDouble());
      }
      if (r.ec != std::errc()) return std::nullopt;
      return std::string_view(begin, static_cast<std::size_t>(r.ptr - begin));
    }
    default:
      return std::nullopt;
  }
}

bool ConditionHolds(const ConditionNode& node, const rapidjson::Value& value) {
  switch (node.op) {
    case ConditionNode::Op::kAnd:
      return ConditionHolds(*node.left, value) && ConditionHolds(*node.right, value);
    case ConditionNode::Op::kOr:
      return ConditionHolds(*node.left, value) || ConditionHolds(*node.right, value);
    case ConditionNode::Op::kNot:
      return !ConditionHolds(*node.left, value);
    case ConditionNode::Op::kExists:
      return node.path.First(value) != nullptr;
    case ConditionNode::Op::kEquals:
    case ConditionNode::Op::kIn:
      return AnyMatches(node, value);
    case ConditionNode::Op::kNotEquals:
    case ConditionNode::Op::kNotIn:
      return !AnyMatches(node, value);
  }
  return false;
}

void FieldPath::Visit(rapidjson::Value& root, FieldVisitor& visitor) const {
  const FieldSlot start{&root, nullptr, nullptr};
  if (!syntax_) {
    visitor.Visit(start);
    return;
  }
  VisitSteps(*syntax_, 0, start, visitor);
}

bool FieldPath::EndsWithKey() const {
  return syntax_ && syntax_->steps.back().kind == PathStep::Kind::kKey;
}

const rapidjson::Value* FieldPath::First(const rapidjson::Value& root) const {
  const rapidjson::Value* first = nullptr;
  ForEach(root, [&first](const rapidjson::Value& v) {
    first = &v;
    return false;
  });
  return first;
}

std::optional<std::string_view> FieldPath::FirstString(const rapidjson::Value& root) const {
  const rapidjson::Value* v = First(root);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string_view(v->GetString(), v->GetStringLength());
}

std::optional<std::string_view> FieldPath::FirstScalar(const rapidjson::Value& root,
                                                       ScalarBuffer& buffer) const {
  const rapidjson::Value* v = First(root);
  if (v == nullptr) return std::nullopt;
  return ScalarText(*v, buffer);
}

bool FieldCondition::Holds(const rapidjson::Value& root) const {
  return !root_ || ConditionHolds(*root_, root);
}

}  // namespace ferry::plugins
