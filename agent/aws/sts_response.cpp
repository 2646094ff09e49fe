// STS query protocol: request bodies by hand (a handful of parameters), responses by expat. Expat streams,
// so a LeafReader keeps the path of open elements and collects the text of the few leaves asked for. See
// sts_response.h for what is accepted.
#include "agent/aws/sts_response.h"

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <expat.h>
#include <fmt/format.h>

#include "agent/aws/credential_document.h"
#include "agent/core/peer_text.h"

namespace ferry::aws {
namespace {

// A credentials response is about 2 KiB; a peer that sends more than this is not STS.
constexpr std::size_t kMaxResponseBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxErrorMessageBytes = 300;
constexpr std::size_t kMaxErrorCodeBytes = 128;
// Names come out of expat as "URI<sep>local" (or "local" without a namespace); ' ' cannot appear in a name.
constexpr XML_Char kNamespaceSeparator = ' ';
// Element names are chosen by the peer; they are quoted in errors, short and printable.
constexpr std::size_t kQuoteBytes = 64;

// XML whitespace: pretty-printed responses may pad a leaf's text.
std::string_view TrimXmlSpace(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view LocalName(const XML_Char* name) {
  const std::string_view full(name);
  const std::size_t sep = full.rfind(kNamespaceSeparator);
  return sep == std::string_view::npos ? full : full.substr(sep + 1);
}

// The text of chosen leaves of one document: the children named in `leaves` of the element at `path`
// (root first). Each leaf may appear once and hold only text. Anything else in the document is skipped.
class LeafReader {
 public:
  LeafReader(std::vector<std::string> path, std::vector<std::string_view> leaves)
      : path_(std::move(path)), leaves_(std::move(leaves)), values_(leaves_.size()) {}

  // Empty when the document parsed, else what is wrong with it (never quoting text: it may be secret).
  std::string Read(std::string_view body) {
    if (body.size() > kMaxResponseBytes) {
      return fmt::format("{} bytes, more than the 1 MiB an STS response may be", body.size());
    }
    std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(
        XML_ParserCreateNS(nullptr, kNamespaceSeparator), &XML_ParserFree);
    if (parser == nullptr) return "out of memory for the XML parser";
    parser_ = parser.get();
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &LeafReader::OnStart, &LeafReader::OnEnd);
    XML_SetCharacterDataHandler(parser_, &LeafReader::OnText);
    // No DTD, hence no entity: refused at the DOCTYPE rather than left to expat's amplification limits.
    XML_SetStartDoctypeDeclHandler(parser_, &LeafReader::OnDoctype);
    XML_SetEntityDeclHandler(parser_, &LeafReader::OnEntityDecl);
    const XML_Status status =
        XML_Parse(parser_, body.data(), static_cast<int>(body.size()), /*isFinal=*/XML_TRUE);
    if (!failure_.empty()) return failure_;
    if (status != XML_STATUS_OK) {
      // Expat's messages are fixed strings ("mismatched tag"), never document text.
      return fmt::format("not XML: {} at line {}", XML_ErrorString(XML_GetErrorCode(parser_)),
                         XML_GetCurrentLineNumber(parser_));
    }
    return {};
  }

  // How many of `path`'s elements, from the root down, were found.
  std::size_t reached() const { return reached_; }
  const std::optional<std::string>& value(std::size_t leaf) const { return values_[leaf]; }

 private:
  void Stop(std::string why) {
    failure_ = std::move(why);
    XML_StopParser(parser_, XML_FALSE);
  }

  static void XMLCALL OnStart(void* self_ptr, const XML_Char* name, const XML_Char** /*attributes*/) {
    auto& self = *static_cast<LeafReader*>(self_ptr);
    if (!self.failure_.empty()) return;
    const std::string_view local = LocalName(name);
    const std::size_t depth = self.open_.size();
    if (depth == 0 && local != self.path_.front()) {
      self.Stop(fmt::format("the root element is <{}>, not <{}>", QuotePeerText(local, kQuoteBytes),
                            self.path_.front()));
      return;
    }
    if (self.leaf_) {
      self.Stop(fmt::format("an element inside <{}>", self.leaves_[*self.leaf_]));
      return;
    }
    if (depth == self.matched_ && depth < self.path_.size() && local == self.path_[depth]) {
      ++self.matched_;
      if (self.matched_ > self.reached_) self.reached_ = self.matched_;
      if (self.matched_ == self.path_.size() && ++self.containers_ > 1) {
        self.Stop(fmt::format("more than one <{}>", self.path_.back()));
        return;
      }
    } else if (depth == self.path_.size() && self.matched_ == depth) {
      for (std::size_t i = 0; i < self.leaves_.size(); ++i) {
        if (local != self.leaves_[i]) continue;
        if (self.values_[i]) {
          self.Stop(fmt::format("more than one <{}> in <{}>", self.leaves_[i], self.path_.back()));
          return;
        }
        self.leaf_ = i;
        self.text_.clear();
      }
    }
    self.open_.emplace_back(local);
  }

  static void XMLCALL OnEnd(void* self_ptr, const XML_Char* /*name*/) {
    auto& self = *static_cast<LeafReader*>(self_ptr);
    if (!self.failure_.empty() || self.open_.empty()) return;
    if (self.open_.size() == self.path_.size() + 1 && self.leaf_) {
      self.values_[*self.leaf_] = std::string(TrimXmlSpace(self.text_));
      self.leaf_.reset();
    }
    if (self.open_.size() == self.matched_) --self.matched_;
    self.open_.pop_back();
  }

  static void XMLCALL OnText(void* self_ptr, const XML_Char* text, int length) {
    auto& self = *static_cast<LeafReader*>(self_ptr);
    if (self.failure_.empty() && self.leaf_) self.text_.append(text, static_cast<std::size_t>(length));
  }

  static void XMLCALL OnDoctype(void* self_ptr, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                                const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
    auto& self = *static_cast<LeafReader*>(self_ptr);
    self.Stop(fmt::format("a DOCTYPE declaration at line {}, refused (no DTDs, no entities)",
                          XML_GetCurrentLineNumber(self.parser_)));
  }

  // Unreachable while DOCTYPEs are refused (entities are declared only in one); kept so that no change to
  // the above can let one through.
  static void XMLCALL OnEntityDecl(void* self_ptr, const XML_Char* /*name*/, int /*is_parameter_entity*/,
                                   const XML_Char* /*value*/, int /*value_length*/, const XML_Char* /*base*/,
                                   const XML_Char* /*system_id*/, const XML_Char* /*public_id*/,
                                   const XML_Char* /*notation_name*/) {
    auto& self = *static_cast<LeafReader*>(self_ptr);
    self.Stop(
        fmt::format("an entity declaration at line {}, refused", XML_GetCurrentLineNumber(self.parser_)));
  }

  const std::vector<std::string> path_;
  const std::vector<std::string_view> leaves_;
  std::vector<std::optional<std::string>> values_;

  XML_Parser parser_ = nullptr;
  std::string failure_;
  std::vector<std::string> open_;    // local names of the open elements, root first
  std::size_t matched_ = 0;          // how many of open_, from the root, follow path_
  std::size_t reached_ = 0;          // the most matched_ ever was
  std::size_t containers_ = 0;       // elements at the full path_ seen
  std::optional<std::size_t> leaf_;  // the leaf being read
  std::string text_;
};

void AppendEncoded(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
}

void AppendParam(std::string& out, std::string_view name, std::string_view value) {
  out.push_back('&');
  out.append(name);
  out.push_back('=');
  AppendEncoded(out, value);
}

// Visible text for a log line: control characters become spaces, and the cut falls between UTF-8
// characters (expat hands out UTF-8 whatever the document's encoding), marked by "...".
std::string Clean(std::string_view text, std::size_t max_bytes) {
  std::string out;
  if (text.size() > max_bytes) {
    std::size_t cut = max_bytes - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out.assign(text.substr(0, cut)).append("...");
  } else {
    out.assign(text);
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace

std::string StsAssumeRoleBody(const StsAssumeRoleRequest& request) {
  std::string body = "Action=AssumeRole&Version=2011-06-15";
  AppendParam(body, "RoleArn", request.role_arn);
  AppendParam(body, "RoleSessionName", request.role_session_name);
  if (!request.external_id.empty()) AppendParam(body, "ExternalId", request.external_id);
  if (request.duration_seconds != 0) {
    AppendParam(body, "DurationSeconds", std::to_string(request.duration_seconds));
  }
  return body;
}

std::string StsAssumeRoleWithWebIdentityBody(std::string_view role_arn, std::string_view role_session_name,
                                             std::string_view web_identity_token,
                                             std::int32_t duration_seconds) {
  std::string body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15";
  AppendParam(body, "RoleArn", role_arn);
  AppendParam(body, "RoleSessionName", role_session_name);
  AppendParam(body, "WebIdentityToken", web_identity_token);
  if (duration_seconds != 0) AppendParam(body, "DurationSeconds", std::to_string(duration_seconds));
  return body;
}

Result<StsCredentials> ParseStsCredentialsResponse(std::string_view body, std::string_view action) {
  const std::string response = std::string(action) + "Response";
  const std::string result = std::string(action) + "Result";
  const auto fail = [&](std::string_view what) {
    return Error(ErrorCode::kProtocol, fmt::format("STS {} response: {}", action, what));
  };
  static constexpr std::array<std::string_view, 4> kLeaves = {"AccessKeyId", "SecretAccessKey",
                                                              "SessionToken", "Expiration"};
  enum Leaf : std::size_t { kKey, kSecret, kToken, kExpiration };
  LeafReader reader({response, result, "Credentials"}, {kLeaves.begin(), kLeaves.end()});
  if (std::string failure = reader.Read(body); !failure.empty()) return fail(failure);
  if (reader.reached() < 2) return fail(fmt::format("no <{}> in <{}>", result, response));
  if (reader.reached() < 3) return fail(fmt::format("no <Credentials> in <{}>", result));

  // In the order STS writes them, so the first problem in the document is the one reported.
  StsCredentials out;
  const std::pair<Leaf, std::string*> secrets[] = {
      {kKey, &out.access_key_id}, {kSecret, &out.secret_access_key}, {kToken, &out.session_token}};
  for (const auto& [leaf, field] : secrets) {
    const auto& value = reader.value(leaf);
    if (!value) return fail(fmt::format("no <{}> in <Credentials>", kLeaves[leaf]));
    if (value->empty()) return fail(fmt::format("<{}> is empty", kLeaves[leaf]));
    if (!IsVisibleAscii(*value)) {
      return fail(fmt::format("<{}> holds a character other than visible ASCII", kLeaves[leaf]));
    }
    *field = *value;
  }
  const auto& expiration = reader.value(kExpiration);
  if (!expiration) return fail("no <Expiration> in <Credentials>");
  const auto unix_seconds = ParseIso8601Utc(*expiration);
  if (!unix_seconds) return fail("<Expiration> is not an ISO 8601 UTC time");
  out.expiration = *unix_seconds;
  return out;
}

StsError ParseStsErrorResponse(std::string_view body) {
  LeafReader reader({"ErrorResponse", "Error"}, {"Code", "Message"});
  if (!reader.Read(body).empty()) return {};
  StsError out;
  if (reader.value(0)) out.code = Clean(*reader.value(0), kMaxErrorCodeBytes);
  if (reader.value(1)) out.message = Clean(*reader.value(1), kMaxErrorMessageBytes);
  return out;
}

}  // namespace ferry::aws
