// AWS Signature Version 4 signer: canonical request, string to sign, signing key and the
// Authorization header, checked against AWS's public signing test suite (tests/data/sigv4).
#include "agent/aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace ferry::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kDateHeader = "x-amz-date";
constexpr std::string_view kTokenHeader = "x-amz-security-token";
constexpr std::string_view kContentHashHeader = "x-amz-content-sha256";
constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

using Digest = std::array<unsigned char, 32>;

// libcrypto only fails here on allocation failure or a broken provider configuration. Going on
// would send requests with a wrong signature forever, so stopping loudly is the lesser harm.
[[noreturn]] void CryptoFailure(const char* what) {
  std::fprintf(stderr, "ferry: libcrypto failure in %s\n", what);
  std::abort();
}

Digest Sha256(std::string_view data) {
  Digest out;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    CryptoFailure("SHA-256");
  }
  return out;
}

Digest HmacSha256(const void* key, std::size_t key_len, std::string_view data) {
  Digest out;
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key, static_cast<int>(key_len), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out.data(), &len) == nullptr ||
      len != out.size()) {
    CryptoFailure("HMAC-SHA256");
  }
  return out;
}

Digest HmacSha256(const Digest& key, std::string_view data) {
  return HmacSha256(key.data(), key.size(), data);
}

std::string HexLower(const Digest& digest) {
  std::string out(digest.size() * 2, '\0');
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kHexLower[digest[i] >> 4];
    out[2 * i + 1] = kHexLower[digest[i] & 0xF];
  }
  return out;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

// SigV4's own encoding (not form encoding): space is %20, '+' is %2B, hex digits upper-case.
void AppendUriEncoded(std::string& out, std::string_view in) {
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 0xF];
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A '%' not followed by two hex digits is kept literally, so it re-encodes as %25 rather than
// being dropped; '+' stays '+' because query strings here are URIs, not HTML forms.
std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Canonical URI. Normalisation works on views into the path: "." segments and empty segments
// (repeated '/') vanish, ".." drops the previous segment; a path whose last segment is empty,
// "." or ".." names a directory and keeps its trailing '/', as RFC 3986 section 5.2.4 does.
void AppendCanonicalUri(std::string& out, std::string_view path, bool normalize) {
  if (!normalize) {
    if (path.empty()) {
      out += '/';
      return;
    }
    if (path.front() != '/') out += '/';
    for (std::size_t start = 0;;) {
      const std::size_t slash = path.find('/', start);
      AppendUriEncoded(out, path.substr(start, slash - start));
      if (slash == std::string_view::npos) break;
      out += '/';
      start = slash + 1;
    }
    return;
  }

  std::vector<std::string_view> kept;
  bool directory = false;
  for (std::size_t start = 0;;) {
    const std::size_t slash = path.find('/', start);
    const std::string_view segment = path.substr(start, slash - start);
    directory = segment.empty() || segment == "." || segment == "..";
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!directory) {
      kept.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (const std::string_view segment : kept) {
    out += '/';
    AppendUriEncoded(out, segment);
  }
  if (kept.empty() || directory) out += '/';
}

// Names and values are decoded then re-encoded so that equivalent spellings ("%7e", "~") sign
// the same, and sorted on the encoded form, which is the order AWS computes on its side.
void AppendCanonicalQuery(std::string& out, std::string_view query) {
  if (query.empty()) return;
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t start = 0; start <= query.size();) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view piece = query.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    const std::string_view name = piece.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    auto& param = params.emplace_back();
    AppendUriEncoded(param.first, PercentDecode(name));
    AppendUriEncoded(param.second, PercentDecode(value));
  }
  std::sort(params.begin(), params.end());
  bool first = true;
  for (const auto& [name, value] : params) {
    if (!first) out += '&';
    first = false;
    out += name;
    out += '=';
    out += value;
  }
}

bool IsHeaderSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view TrimHeaderSpace(std::string_view s) {
  while (!s.empty() && IsHeaderSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsHeaderSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Trims and turns every whitespace run into one space; a folded (multi-line) value thereby
// becomes a single line, which is also how RFC 7230 says to read obsolete line folding.
void AppendHeaderValue(std::string& out, std::string_view value) {
  value = TrimHeaderSpace(value);
  bool in_space = false;
  for (const char c : value) {
    if (IsHeaderSpace(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out += ' ';
    in_space = false;
    out += c;
  }
}

struct CanonicalHeader {
  std::string name;  // lower-case
  std::string value;
};

CanonicalHeader MakeHeader(std::string_view name, std::string_view value) {
  CanonicalHeader header;
  name = TrimHeaderSpace(name);
  header.name.reserve(name.size());
  for (const char c : name) header.name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  AppendHeaderValue(header.value, value);
  return header;
}

// Writes "name:value\n" lines then the blank line and the signed header list, merging repeated
// names with ',' in the order the caller gave them (hence the stable sort).
void AppendCanonicalHeaders(std::string& out, std::string& signed_headers,
                            std::vector<CanonicalHeader>& headers) {
  std::stable_sort(headers.begin(), headers.end(),
                   [](const CanonicalHeader& a, const CanonicalHeader& b) { return a.name < b.name; });
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const bool repeat = i > 0 && headers[i].name == headers[i - 1].name;
    if (repeat) {
      out += ',';
    } else {
      if (i > 0) {
        out += '\n';
        signed_headers += ';';
      }
      out += headers[i].name;
      out += ':';
      signed_headers += headers[i].name;
    }
    out += headers[i].value;
  }
  if (!headers.empty()) out += '\n';
}

void AppendDigits(std::string& out, long long value, int width) {
  char buf[20];
  int n = 0;
  unsigned long long v = value < 0 ? 0 : static_cast<unsigned long long>(value);
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < static_cast<int>(sizeof(buf)));
  for (int i = n; i < width; ++i) out += '0';
  while (n > 0) out += buf[--n];
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  return HexLower(Sha256(data));
}

std::string AmzDate(std::int64_t time) {
  using std::chrono::days;
  const std::chrono::sys_seconds tp{std::chrono::seconds{time}};
  const std::chrono::sys_days day = std::chrono::floor<days>(tp);
  const std::chrono::year_month_day ymd{day};
  const long long second_of_day = (tp - day).count();
  std::string out;
  out.reserve(16);
  AppendDigits(out, static_cast<int>(ymd.year()), 4);
  AppendDigits(out, static_cast<unsigned>(ymd.month()), 2);
  AppendDigits(out, static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  AppendDigits(out, second_of_day / 3600, 2);
  AppendDigits(out, second_of_day / 60 % 60, 2);
  AppendDigits(out, second_of_day % 60, 2);
  out += 'Z';
  return out;
}

Signed SignRequest(const RequestToSign& request, const Credentials& credentials,
                   const SigningParams& params) {
  Signed result;
  const std::string amz_date = AmzDate(params.time);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const bool has_token = !credentials.session_token.empty();
  const std::string payload_hash = Sha256Hex(request.body);

  // The signer owns these headers: a stale X-Amz-Date or token left in the request by a retry
  // must not be signed alongside (or instead of) the fresh one.
  std::vector<CanonicalHeader> headers;
  headers.reserve(request.headers.size() + 3);
  for (const auto& [name, value] : request.headers) {
    CanonicalHeader header = MakeHeader(name, value);
    if (header.name == "authorization" || header.name == kDateHeader ||
        (has_token && header.name == kTokenHeader) ||
        (params.sign_body && header.name == kContentHashHeader)) {
      continue;
    }
    headers.push_back(std::move(header));
  }
  headers.push_back(MakeHeader(kDateHeader, amz_date));
  result.added_headers.emplace_back("X-Amz-Date", amz_date);
  if (has_token) {
    if (!params.omit_session_token) headers.push_back(MakeHeader(kTokenHeader, credentials.session_token));
    result.added_headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  if (params.sign_body) {
    headers.push_back(MakeHeader(kContentHashHeader, payload_hash));
    result.added_headers.emplace_back(kContentHashHeader, payload_hash);
  }

  std::string& canonical = result.canonical_request;
  std::string signed_headers;
  canonical.reserve(256 + request.path.size() + request.query.size() + credentials.session_token.size());
  canonical += request.method;
  canonical += '\n';
  AppendCanonicalUri(canonical, request.path, params.normalize_path);
  canonical += '\n';
  AppendCanonicalQuery(canonical, request.query);
  canonical += '\n';
  AppendCanonicalHeaders(canonical, signed_headers, headers);
  canonical += '\n';
  canonical += signed_headers;
  canonical += '\n';
  canonical += payload_hash;

  std::string scope;
  scope.reserve(date.size() + params.region.size() + params.service.size() + kTerminator.size() + 3);
  scope += date;
  scope += '/';
  scope += params.region;
  scope += '/';
  scope += params.service;
  scope += '/';
  scope += kTerminator;

  std::string& to_sign = result.string_to_sign;
  to_sign.reserve(kAlgorithm.size() + amz_date.size() + scope.size() + 64 + 3);
  to_sign += kAlgorithm;
  to_sign += '\n';
  to_sign += amz_date;
  to_sign += '\n';
  to_sign += scope;
  to_sign += '\n';
  to_sign += HexLower(Sha256(canonical));

  // The secret and every key derived from it are wiped so they do not linger in freed memory.
  std::string secret;
  secret.reserve(4 + credentials.secret_access_key.size());  // no reallocation leaves a stray copy
  secret += "AWS4";
  secret += credentials.secret_access_key;
  Digest key = HmacSha256(secret.data(), secret.size(), date);
  OPENSSL_cleanse(secret.data(), secret.size());
  key = HmacSha256(key, params.region);
  key = HmacSha256(key, params.service);
  key = HmacSha256(key, kTerminator);
  result.signature = HexLower(HmacSha256(key, to_sign));
  OPENSSL_cleanse(key.data(), key.size());

  std::string& auth = result.authorization;
  auth.reserve(kAlgorithm.size() + credentials.access_key_id.size() + scope.size() + signed_headers.size() +
               128);
  auth += kAlgorithm;
  auth += " Credential=";
  auth += credentials.access_key_id;
  auth += '/';
  auth += scope;
  auth += ", SignedHeaders=";
  auth += signed_headers;
  auth += ", Signature=";
  auth += result.signature;
  return result;
}

}  // namespace ferry::aws
