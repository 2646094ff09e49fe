// FieldPathParser: reads the text of a FieldPath or a FieldCondition (grammar in field_path.h) into its
// parsed form, by recursive descent with a bound on nesting, reporting the first error with its column.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "plugins/fields/field_path.h"
#include "plugins/fields/field_path_syntax.h"

namespace ferry::plugins {

namespace {

bool IsIdentByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u == '-' ||
         u == '$' || u >= 0x80;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

struct FieldPathParser {
  explicit FieldPathParser(std::string_view t) : text(t) {}

  std::string_view text;
  std::size_t pos = 0;
  int depth = 0;
  std::string error;  // the first error, "column N: ..."

  bool Fail(std::string_view what) { return FailAt(pos, what); }
  bool FailAt(std::size_t at, std::string_view what) {
    if (error.empty()) error = "column " + std::to_string(at + 1) + ": " + std::string(what);
    return false;
  }
  bool AtEnd() const { return pos >= text.size(); }
  char Peek(std::size_t ahead = 0) const { return pos + ahead < text.size() ? text[pos + ahead] : '\0'; }
  void SkipSpaces() {
    while (!AtEnd() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  std::string Found() const {
    if (AtEnd()) return "the end";
    const char c = text[pos];
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
      return "a byte that is not printable";
    return std::string("'") + c + "'";
  }
  // The word at pos (identifier bytes), without consuming it.
  std::string_view PeekWord() const {
    std::size_t end = pos;
    while (end < text.size() && IsIdentByte(text[end])) ++end;
    return text.substr(pos, end - pos);
  }
  // One more level of nesting, opened at byte at.
  bool Enter(std::size_t at) {
    if (++depth > FieldPath::kMaxNesting) {
      return FailAt(at, "brackets and parentheses nest deeper than " +
                            std::to_string(FieldPath::kMaxNesting) + " levels");
    }
    return true;
  }

  // A JSON string literal at pos (the opening quote), decoded into out.
  bool ParseQuoted(std::string& out) {
    const std::size_t start = pos;
    ++pos;  // the quote
    for (;;) {
      if (AtEnd()) return FailAt(start, "string not closed (a '\"' is missing)");
      const char c = text[pos];
      if (c == '"') {
        ++pos;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return Fail("control character in a string (write it as an escape)");
      if (c != '\\') {
        out += c;
        ++pos;
        continue;
      }
      ++pos;
      if (AtEnd()) return FailAt(start, "string not closed (a '\"' is missing)");
      const char e = text[pos++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!ParseHex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (Peek() != '\\' || Peek(1) != 'u')
              return Fail("a high surrogate must be followed by \\u and a low one");
            pos += 2;
            if (!ParseHex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF)
              return FailAt(pos - 6, "expected a low surrogate (\\uDC00 to \\uDFFF)");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return FailAt(pos - 6, "a low surrogate without a high one before it");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return FailAt(pos - 2, "unknown escape (known: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
    }
  }
  bool ParseHex4(std::uint32_t& out) {
    for (int i = 0; i < 4; ++i) {
      const char c = Peek();
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return Fail("expected 4 hex digits after \\u");
      }
      out = out * 16 + d;
      ++pos;
    }
    return true;
  }

  bool ParseKey(std::string& key) {
    if (Peek() == '"') return ParseQuoted(key);
    const std::string_view word = PeekWord();
    if (word.empty())
      return Fail("expected a key (letters, digits, _ - $, or a \"quoted key\"), found " + Found());
    key = std::string(word);
    pos += word.size();
    return true;
  }

  // A path at pos: "@" or a key, then any number of .key and [...] steps.
  bool ParsePath(FieldPath& out) {
    const std::size_t start = pos;
    FieldPathSyntax syntax;
    if (Peek() == '@') {
      ++pos;
    } else {
      PathStep step;
      if (!ParseKey(step.key)) return false;
      syntax.steps.push_back(std::move(step));
    }
    for (;;) {
      if (Peek() == '.') {
        ++pos;
        PathStep step;
        if (!ParseKey(step.key)) return false;
        syntax.steps.push_back(std::move(step));
      } else if (Peek() == '[') {
        PathStep step;
        if (!ParseBracket(step)) return false;
        syntax.steps.push_back(std::move(step));
      } else {
        break;
      }
    }
    out.text_ = std::string(text.substr(start, pos - start));
    if (!syntax.steps.empty()) out.syntax_ = std::make_shared<const FieldPathSyntax>(std::move(syntax));
    return true;
  }

  // [] or [index] or [condition], pos at the '['.
  bool ParseBracket(PathStep& step) {
    const std::size_t open = pos;
    ++pos;
    if (!Enter(open)) return false;
    SkipSpaces();
    step.kind = PathStep::Kind::kEach;
    if (AtEnd()) return FailAt(open, "'[' not closed (a ']' is missing)");
    if (Peek() == ']') {
      ++pos;
      --depth;
      return true;
    }
    std::size_t digits = 0;
    while (IsDigit(Peek(digits))) ++digits;
    std::size_t after = pos + digits;
    while (after < text.size() && text[after] == ' ') ++after;
    if (digits > 0 && after == text.size()) return FailAt(open, "'[' not closed (a ']' is missing)");
    if (digits > 0 && after < text.size() && text[after] == ']') {
      if (digits > 9) return Fail("index too large");
      step.kind = PathStep::Kind::kIndex;
      step.index = std::stoul(std::string(text.substr(pos, digits)));
      pos = after + 1;
      --depth;
      return true;
    }
    auto where = std::make_unique<ConditionNode>();
    if (!ParseOr(*where)) return false;
    SkipSpaces();
    if (Peek() != ']') {
      if (AtEnd()) return FailAt(open, "'[' not closed (a ']' is missing)");
      return Fail("expected ']' or and/or after the condition, found " + Found());
    }
    ++pos;
    --depth;
    step.where = std::move(where);
    return true;
  }

  // Whether the keyword kw is at pos as a whole word.
  bool AtKeyword(std::string_view kw) const { return PeekWord() == kw; }

  bool ParseOr(ConditionNode& out) {
    if (!ParseAnd(out)) return false;
    for (;;) {
      SkipSpaces();
      if (AtKeyword("or")) {
        pos += 2;
      } else if (Peek() == '|' && Peek(1) == '|') {
        pos += 2;
      } else {
        return true;
      }
      auto right = std::make_unique<ConditionNode>();
      if (!ParseAnd(*right)) return false;
      auto left = std::make_unique<ConditionNode>(std::move(out));
      out = ConditionNode{};
      out.op = ConditionNode::Op::kOr;
      out.left = std::move(left);
      out.right = std::move(right);
    }
  }

  bool ParseAnd(ConditionNode& out) {
    if (!ParseUnary(out)) return false;
    for (;;) {
      SkipSpaces();
      if (AtKeyword("and")) {
        pos += 3;
      } else if (Peek() == '&' && Peek(1) == '&') {
        pos += 2;
      } else {
        return true;
      }
      auto right = std::make_unique<ConditionNode>();
      if (!ParseUnary(*right)) return false;
      auto left = std::make_unique<ConditionNode>(std::move(out));
      out = ConditionNode{};
      out.op = ConditionNode::Op::kAnd;
      out.left = std::move(left);
      out.right = std::move(right);
    }
  }

  // Whether what follows the word at pos is an operator, so the word is a key ("not == 1").
  bool OperatorAfterWord() const {
    std::size_t at = pos + PeekWord().size();
    while (at < text.size() && text[at] == ' ') ++at;
    return at < text.size() &&
           (text[at] == '=' || (text[at] == '!' && at + 1 < text.size() && text[at + 1] == '='));
  }

  bool ParseUnary(ConditionNode& out) {
    SkipSpaces();
    const bool bang = Peek() == '!' && Peek(1) != '=';
    if (bang || (AtKeyword("not") && !OperatorAfterWord())) {
      const std::size_t at = pos;
      pos += bang ? 1 : 3;
      if (!Enter(at)) return false;
      out.op = ConditionNode::Op::kNot;
      out.left = std::make_unique<ConditionNode>();
      if (!ParseUnary(*out.left)) return false;
      --depth;
      return true;
    }
    if (Peek() == '(') {
      const std::size_t open = pos;
      ++pos;
      if (!Enter(open)) return false;
      if (!ParseOr(out)) return false;
      SkipSpaces();
      if (Peek() != ')') {
        if (AtEnd()) return FailAt(open, "'(' not closed (a ')' is missing)");
        return Fail("expected ')' or and/or, found " + Found());
      }
      ++pos;
      --depth;
      return true;
    }
    return ParseComparison(out);
  }

  bool ParseComparison(ConditionNode& out) {
    if (AtEnd())
      return Fail("expected a condition (path == value, path in [...], path exists, not ..., ( ... ))");
    if (!ParsePath(out.path)) return false;
    SkipSpaces();
    if (Peek() == '=' && Peek(1) == '=') {
      pos += 2;
      out.op = ConditionNode::Op::kEquals;
      return ParseOneLiteral(out);
    }
    if (Peek() == '!' && Peek(1) == '=') {
      pos += 2;
      out.op = ConditionNode::Op::kNotEquals;
      return ParseOneLiteral(out);
    }
    if (AtKeyword("in")) {
      pos += 2;
      out.op = ConditionNode::Op::kIn;
      return ParseList(out);
    }
    if (AtKeyword("not")) {
      pos += 3;
      SkipSpaces();
      if (!AtKeyword("in")) return Fail("expected 'in' after 'not', found " + Found());
      pos += 2;
      out.op = ConditionNode::Op::kNotIn;
      return ParseList(out);
    }
    if (AtKeyword("exists")) {
      pos += 6;
      out.op = ConditionNode::Op::kExists;
      return true;
    }
    if (Peek() == '=') return Fail("'=' is not an operator; compare with '=='");
    return Fail("expected an operator after the path (==, !=, in, not in, exists), found " + Found());
  }

  bool ParseOneLiteral(ConditionNode& out) {
    ConditionLiteral literal;
    if (!ParseLiteral(literal)) return false;
    out.literals.push_back(std::move(literal));
    return true;
  }

  bool ParseList(ConditionNode& out) {
    SkipSpaces();
    if (Peek() != '[') return Fail("expected a list of values ([\"a\", \"b\"]) after 'in', found " + Found());
    const std::size_t open = pos;
    ++pos;
    for (;;) {
      ConditionLiteral literal;
      if (!ParseLiteral(literal)) return false;
      out.literals.push_back(std::move(literal));
      SkipSpaces();
      if (Peek() == ',') {
        ++pos;
        continue;
      }
      if (Peek() == ']') {
        ++pos;
        return true;
      }
      if (AtEnd()) return FailAt(open, "list not closed (a ']' is missing)");
      return Fail("expected ',' or ']' in the list, found " + Found());
    }
  }

  bool ParseLiteral(ConditionLiteral& out) {
    SkipSpaces();
    if (Peek() == '"') return ParseQuoted(out.text);
    if (Peek() == 'i' && Peek(1) == '"') {
      ++pos;
      out.fold_case = true;
      return ParseQuoted(out.text);
    }
    const std::size_t start = pos;
    if (Peek() == '-' || IsDigit(Peek())) {
      // A JSON number, kept as its text.
      if (Peek() == '-') ++pos;
      if (!IsDigit(Peek())) return Fail("expected a digit");
      while (IsDigit(Peek())) ++pos;
      if (Peek() == '.') {
        ++pos;
        if (!IsDigit(Peek())) return Fail("expected a digit after '.'");
        while (IsDigit(Peek())) ++pos;
      }
      if (Peek() == 'e' || Peek() == 'E') {
        ++pos;
        if (Peek() == '+' || Peek() == '-') ++pos;
        if (!IsDigit(Peek())) return Fail("expected a digit in the exponent");
        while (IsDigit(Peek())) ++pos;
      }
      if (IsIdentByte(Peek())) return Fail("unexpected " + Found() + " in a number (quote a string)");
      out.text = std::string(text.substr(start, pos - start));
      return true;
    }
    const std::string_view word = PeekWord();
    if (word == "true" || word == "false" || word == "null") {
      out.text = std::string(word);
      pos += word.size();
      return true;
    }
    if (!word.empty()) {
      return Fail("expected a value; a string is quoted (\"" + std::string(word) + "\")");
    }
    return Fail("expected a value (\"string\", i\"case-insensitive\", a number, true, false, null), found " +
                Found());
  }

  Status Finish(std::string_view what) {
    if (error.empty() && !AtEnd()) {
      Fail("unexpected " + Found() + " after the " + std::string(what));
    }
    if (!error.empty()) return Error(ErrorCode::kInvalidArgument, error);
    return Status::Ok();
  }
};

Result<FieldPath> FieldPath::Parse(std::string_view text) {
  if (text.empty()) return Error(ErrorCode::kInvalidArgument, "empty path");
  if (text.size() > kMaxTextBytes) {
    return Error(ErrorCode::kInvalidArgument, "path longer than " + std::to_string(kMaxTextBytes) + " bytes");
  }
  FieldPathParser parser(text);
  FieldPath path;
  parser.ParsePath(path);
  if (Status done = parser.Finish("path"); !done) return done.error();
  return path;
}

Result<FieldCondition> FieldCondition::Parse(std::string_view text) {
  if (text.size() > kMaxTextBytes) {
    return Error(ErrorCode::kInvalidArgument,
                 "condition longer than " + std::to_string(kMaxTextBytes) + " bytes");
  }
  FieldPathParser parser(text);
  auto root = std::make_unique<ConditionNode>();
  parser.SkipSpaces();
  if (parser.AtEnd()) return Error(ErrorCode::kInvalidArgument, "empty condition");
  parser.ParseOr(*root);
  parser.SkipSpaces();
  if (Status done = parser.Finish("condition"); !done) return done.error();
  FieldCondition condition;
  condition.text_ = std::string(text);
  condition.root_ = std::move(root);
  return condition;
}

}  // namespace ferry::plugins
